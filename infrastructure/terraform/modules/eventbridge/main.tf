# Schedules on the default event bus (scheduled rules cost nothing). Each names the function it
# starts and the input it sends.

locals {
  schedules = {
    ingestion = {
      function    = "ingestion"
      expression  = var.ingestion_schedule
      description = "News ingestion for every tracked ticker."
      input       = null
    }
    metrics = {
      function    = "metrics"
      expression  = var.metrics_schedule
      description = "Pipeline and cache metrics."
      input       = null
    }
    digest = {
      function    = "notification"
      expression  = var.digest_schedule
      description = "The daily digest e-mail."
      input       = jsonencode({ action = "digest" })
    }
  }
}

resource "aws_cloudwatch_event_rule" "schedule" {
  for_each = local.schedules

  name                = "${var.name_prefix}-${each.key}"
  description         = each.value.description
  schedule_expression = each.value.expression
  state               = var.enabled ? "ENABLED" : "DISABLED"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each = local.schedules

  rule  = aws_cloudwatch_event_rule.schedule[each.key].name
  arn   = var.function_arns[each.value.function]
  input = each.value.input

  retry_policy {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = 300
  }
}

resource "aws_lambda_permission" "schedule" {
  for_each = local.schedules

  statement_id  = "AllowSchedule-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = var.function_names[each.value.function]
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[each.key].arn
}
