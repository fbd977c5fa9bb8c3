# The five functions. They share one artifact (the `services` package and its runtime
# dependencies, built by `make package`) and differ by handler, role, memory and environment.

locals {
  handlers = {
    ingestion    = "services.functions.ingestion.handler"
    analysis     = "services.functions.analysis.handler"
    dashboard    = "services.functions.dashboard.handler"
    notification = "services.functions.notification.handler"
    metrics      = "services.functions.metrics.handler"
  }

  descriptions = {
    ingestion    = "Fetches Tiingo and Finnhub news for every tracked ticker (schedule)."
    analysis     = "Scores new articles and updates the sentiment buckets (SNS)."
    dashboard    = "The REST API behind the Function URL."
    notification = "Alert, magic-link and digest e-mails through SendGrid."
    metrics      = "Pipeline and cache metrics (schedule)."
  }

  # Plan time must not need the artifact: a missing zip only leaves the hash unknown.
  package_hash = fileexists(var.package_path) ? filebase64sha256(var.package_path) : null
}

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.handlers

  #checkov:skip=CKV_AWS_158:Logs are encrypted by CloudWatch's own key; a customer-managed key adds a monthly fee for no requirement we have.
  #checkov:skip=CKV_AWS_338:Retention is set per environment (var.log_retention_days); a year of debug logs is not worth its storage here.
  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.handlers

  #checkov:skip=CKV_AWS_117:The functions reach only AWS APIs and the public provider APIs; a VPC would add a NAT gateway (about $32/month) and nothing to protect.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and ARNs only; the provider keys live in Secrets Manager.
  #checkov:skip=CKV_AWS_272:The artifact is built reproducibly from the repository (make package) and its hash is pinned by source_code_hash; code signing adds a signer profile per account for no further guarantee here.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional (var.reserved_concurrency): new accounts cannot reserve any from their 10-instance limit.
  #checkov:skip=CKV_AWS_116:Only the analysis function is invoked asynchronously with messages worth keeping (its dead-letter queue is set); a failed scheduled run is repeated by the next tick, and the dashboard is invoked synchronously.
  function_name                  = "${var.name_prefix}-${each.key}"
  description                    = local.descriptions[each.key]
  role                           = var.role_arns[each.key]
  handler                        = each.value
  runtime                        = "python3.11"
  architectures                  = [var.architecture]
  filename                       = var.package_path
  source_code_hash               = local.package_hash
  memory_size                    = lookup(var.memory_mb, each.key, 128)
  timeout                        = lookup(var.timeout_s, each.key, 30)
  reserved_concurrent_executions = lookup(var.reserved_concurrency, each.key, -1)

  environment {
    variables = merge(
      var.environment,
      lookup(var.function_environment, each.key, {}),
      { POWERTOOLS_SERVICE_NAME = each.key },
    )
  }

  tracing_config {
    mode = var.tracing ? "Active" : "PassThrough"
  }

  dynamic "dead_letter_config" {
    for_each = each.key == "analysis" && var.analysis_dead_letter_queue_arn != null ? [1] : []

    content {
      target_arn = var.analysis_dead_letter_queue_arn
    }
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.function]
}

# The dashboard API is public: the API authenticates every protected route itself (bearer
# tokens checked against the table), and sign-in and health routes must answer anyone.
resource "aws_lambda_function_url" "dashboard" {
  #checkov:skip=CKV_AWS_258:The API authenticates each protected route with its own bearer tokens; sign-in and /health must be reachable without AWS credentials.
  function_name      = aws_lambda_function.this["dashboard"].function_name
  authorization_type = "NONE"

  cors {
    allow_origins     = var.cors_allow_origins
    allow_methods     = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    allow_headers     = ["authorization", "content-type", "x-correlation-id"]
    expose_headers    = ["x-correlation-id", "x-cache", "retry-after"]
    allow_credentials = false
    max_age           = 600
  }
}
