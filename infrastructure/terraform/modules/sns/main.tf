# The analysis topic: ingestion publishes batches of article keys, the analysis function
# subscribes. Messages SNS cannot deliver, and invocations that fail after Lambda's retries,
# land in one dead-letter queue.

resource "aws_sns_topic" "analysis" {
  name              = var.topic_name
  kms_master_key_id = var.topic_kms_key
  tags              = var.tags
}

resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.topic_name}-dlq"
  message_retention_seconds = var.dlq_retention_seconds
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

data "aws_iam_policy_document" "dead_letters" {
  statement {
    sid       = "TopicDeliversFailures"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.analysis.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letters" {
  queue_url = aws_sqs_queue.dead_letters.id
  policy    = data.aws_iam_policy_document.dead_letters.json
}

resource "aws_sns_topic_subscription" "analysis" {
  topic_arn = aws_sns_topic.analysis.arn
  protocol  = "lambda"
  endpoint  = var.analysis_function_arn

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
  })
}

resource "aws_lambda_permission" "sns_invokes_analysis" {
  statement_id  = "AllowAnalysisTopic"
  action        = "lambda:InvokeFunction"
  function_name = var.analysis_function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.analysis.arn
}
