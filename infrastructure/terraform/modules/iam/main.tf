# One role per function, each with one inline policy scoped to exact ARNs: the table and only
# the indexes the function queries, the topic it publishes to, the dead-letter queue, the
# secrets it reads, and its own log group. The action lists follow the repositories
# each function uses (services/store/).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  read_actions = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
  ]
  # Transactions need the item-level action of each of their parts, ConditionCheckItem included.
  write_actions = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
  ]

  access = {
    # Stores new stories, republishes stale pending ones (by_status), counts quotas and circuits.
    ingestion = {
      table_actions = concat(local.read_actions, local.write_actions)
      indexes       = ["by_status"]
      publishes     = true
      dead_letters  = false
      secrets       = ["tiingo", "finnhub"]
    }
    # Scores the articles of a message and updates the per-ticker sentiment buckets; queues
    # the alert e-mails a batch fires, whose unsubscribe links it signs.
    analysis = {
      table_actions = concat(local.read_actions, local.write_actions)
      indexes       = []
      publishes     = false
      dead_letters  = true
      secrets       = ["unsubscribe"]
    }
    # The REST API: every entity, deletes included (configurations, alerts, sign-out),
    # DescribeTable for the health check and the operator's table view, and Scan for that
    # view's bounded sample (services/store/census.py reads a capped number of items).
    dashboard = {
      table_actions = concat(local.read_actions, local.write_actions, ["dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:Scan"])
      indexes       = ["by_sentiment", "by_status", "by_tag"]
      publishes     = false
      dead_letters  = false
      secrets       = ["tiingo", "finnhub", "sendgrid", "unsubscribe"]
    }
    # Alert and digest e-mails from the outbox, within SendGrid's quota; queues the digests,
    # whose unsubscribe links it signs.
    notification = {
      table_actions = concat(local.read_actions, local.write_actions, ["dynamodb:DeleteItem"])
      indexes       = ["by_tag"]
      publishes     = false
      dead_letters  = false
      secrets       = ["sendgrid", "unsubscribe"]
    }
    # Pipeline counts and sentiment distribution from the indexes, written for the workbench.
    metrics = {
      table_actions = concat(local.read_actions, ["dynamodb:PutItem"])
      indexes       = ["by_sentiment", "by_status", "by_tag"]
      publishes     = false
      dead_letters  = false
      secrets       = []
    }
  }

  log_group_arn_prefix = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.access

  name               = "${var.name_prefix}-${each.key}"
  description        = "Execution role of the ${each.key} function."
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  for_each = local.access

  #checkov:skip=CKV_AWS_356:Only the X-Ray statement uses "*": PutTraceSegments and PutTelemetryRecords support no resource-level permissions.
  #checkov:skip=CKV_AWS_111:Only the X-Ray statement uses "*": PutTraceSegments and PutTelemetryRecords support no resource-level permissions.

  statement {
    sid       = "Table"
    actions   = each.value.table_actions
    resources = [var.table_arn]
  }

  dynamic "statement" {
    for_each = length(each.value.indexes) > 0 ? [1] : []

    content {
      sid       = "Indexes"
      actions   = ["dynamodb:Query"]
      resources = [for name in each.value.indexes : var.index_arns[name]]
    }
  }

  dynamic "statement" {
    for_each = each.value.publishes ? [1] : []

    content {
      sid       = "PublishAnalysisBatches"
      actions   = ["sns:Publish"]
      resources = [var.topic_arn]
    }
  }

  dynamic "statement" {
    for_each = each.value.dead_letters ? [1] : []

    content {
      sid       = "DeadLetters"
      actions   = ["sqs:SendMessage"]
      resources = [var.dead_letter_queue_arn]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.secrets) > 0 ? [1] : []

    content {
      sid       = "Secrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [for name in each.value.secrets : var.secret_arns[name]]
    }
  }

  statement {
    sid     = "OwnLogGroup"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "${local.log_group_arn_prefix}/${var.name_prefix}-${each.key}:*",
    ]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.access

  name   = "${var.name_prefix}-${each.key}"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}
