# The five functions, from two artifacts built by `make package`: build/lambda.zip (the
# `services` package and its runtime dependencies) for four of them, uploaded directly, and
# build/lambda-analysis.zip (the same plus the transformer model, onnxruntime and tokenizers)
# for analysis, deployed through an S3 bucket of this module. They differ by handler, role,
# runtime, memory and environment.
#
# The dashboard is a resource of its own: every other function is given its Function URL as
# PUBLIC_API_URL (the e-mails' unsubscribe links open the API there), and a function's
# environment cannot name the URL of a function of the same for_each resource without a cycle.

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

  # onnxruntime's wheels need glibc >= 2.27 (manylinux_2_28): python3.12 runs on Amazon Linux
  # 2023 (glibc 2.34); python3.11 on Amazon Linux 2 (glibc 2.26) could not load them. The
  # analysis artifact's wheels are built for it (ANALYSIS in infrastructure/packaging/build.py).
  runtimes = {
    analysis = "python3.12"
  }

  # Every function but the dashboard (see the top of this file).
  url_readers = { for name, handler in local.handlers : name => handler if name != "dashboard" }
  # Both resources as one map, for the outputs.
  functions = merge(aws_lambda_function.this, { dashboard = aws_lambda_function.dashboard })

  # Plan time must not need the artifacts: a missing zip only leaves its hash unknown.
  package_hash          = fileexists(var.package_path) ? filebase64sha256(var.package_path) : null
  analysis_package_hash = fileexists(var.analysis_package_path) ? filebase64sha256(var.analysis_package_path) : null
  analysis_package_md5  = fileexists(var.analysis_package_path) ? filemd5(var.analysis_package_path) : null
}

# Lambda takes a zip over 50 MB only from S3 (250 MB unzipped either way): the analysis
# artifact (about 80 MB zipped) goes through this bucket. Private, versioned, replaced
# versions expire after 30 days.
resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_18:The bucket holds build outputs reproducible from the repository; access logs would need a second bucket for no audit requirement we have.
  #checkov:skip=CKV_AWS_144:A deployment artifact is rebuilt from the repository, not restored from a replica; replication doubles storage for nothing.
  #checkov:skip=CKV_AWS_145:Encrypted with S3's own key (SSE-S3); a customer-managed KMS key adds a monthly fee for no requirement we have.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to a new artifact: Terraform updates the function itself.
  bucket_prefix = "${var.name_prefix}-code-"
  force_destroy = true
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "expire-replaced-artifacts"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts]
}

resource "aws_s3_object" "analysis" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "analysis/lambda-analysis.zip"
  source      = var.analysis_package_path
  source_hash = local.analysis_package_md5
  tags        = var.tags

  depends_on = [aws_s3_bucket_versioning.artifacts, aws_s3_bucket_server_side_encryption_configuration.artifacts]
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
  for_each = local.url_readers

  #checkov:skip=CKV_AWS_117:The functions reach only AWS APIs and the public provider APIs; a VPC would add a NAT gateway (about $32/month) and nothing to protect.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and ARNs only; the provider keys live in Secrets Manager.
  #checkov:skip=CKV_AWS_272:The artifacts are built reproducibly from the repository (make package) and each hash is pinned by source_code_hash; code signing adds a signer profile per account for no further guarantee here.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional (var.reserved_concurrency): new accounts cannot reserve any from their 10-instance limit.
  #checkov:skip=CKV_AWS_116:Only the analysis function is invoked asynchronously with messages worth keeping (its dead-letter queue is set); a failed scheduled run is repeated by the next tick, and the dashboard is invoked synchronously.
  function_name                  = "${var.name_prefix}-${each.key}"
  description                    = local.descriptions[each.key]
  role                           = var.role_arns[each.key]
  handler                        = each.value
  runtime                        = lookup(local.runtimes, each.key, "python3.11")
  architectures                  = [var.architecture]
  filename                       = each.key == "analysis" ? null : var.package_path
  s3_bucket                      = each.key == "analysis" ? aws_s3_object.analysis.bucket : null
  s3_key                         = each.key == "analysis" ? aws_s3_object.analysis.key : null
  s3_object_version              = each.key == "analysis" ? aws_s3_object.analysis.version_id : null
  source_code_hash               = each.key == "analysis" ? local.analysis_package_hash : local.package_hash
  memory_size                    = lookup(var.memory_mb, each.key, 128)
  timeout                        = lookup(var.timeout_s, each.key, 30)
  reserved_concurrent_executions = lookup(var.reserved_concurrency, each.key, -1)

  environment {
    variables = merge(
      var.environment,
      { PUBLIC_API_URL = trimsuffix(aws_lambda_function_url.dashboard.function_url, "/") },
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

# The REST API, as the other functions but from the shared artifact only, on python3.11, and
# without PUBLIC_API_URL (its own URL: it writes no unsubscribe link, it only checks them).
resource "aws_lambda_function" "dashboard" {
  #checkov:skip=CKV_AWS_117:The functions reach only AWS APIs and the public provider APIs; a VPC would add a NAT gateway (about $32/month) and nothing to protect.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and ARNs only; the provider keys live in Secrets Manager.
  #checkov:skip=CKV_AWS_272:The artifacts are built reproducibly from the repository (make package) and each hash is pinned by source_code_hash; code signing adds a signer profile per account for no further guarantee here.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional (var.reserved_concurrency): new accounts cannot reserve any from their 10-instance limit.
  #checkov:skip=CKV_AWS_116:The dashboard is invoked synchronously through its Function URL: a failed request is answered, there is no event to keep.
  function_name                  = "${var.name_prefix}-dashboard"
  description                    = local.descriptions["dashboard"]
  role                           = var.role_arns["dashboard"]
  handler                        = local.handlers["dashboard"]
  runtime                        = lookup(local.runtimes, "dashboard", "python3.11")
  architectures                  = [var.architecture]
  filename                       = var.package_path
  source_code_hash               = local.package_hash
  memory_size                    = lookup(var.memory_mb, "dashboard", 128)
  timeout                        = lookup(var.timeout_s, "dashboard", 30)
  reserved_concurrent_executions = lookup(var.reserved_concurrency, "dashboard", -1)

  environment {
    variables = merge(
      var.environment,
      lookup(var.function_environment, "dashboard", {}),
      { POWERTOOLS_SERVICE_NAME = "dashboard" },
    )
  }

  tracing_config {
    mode = var.tracing ? "Active" : "PassThrough"
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.function]
}

# The dashboard was an instance of aws_lambda_function.this: keep the deployed function (and
# so its Function URL) instead of replacing it.
moved {
  from = aws_lambda_function.this["dashboard"]
  to   = aws_lambda_function.dashboard
}

# The dashboard API is public: the API authenticates every protected route itself (bearer
# tokens checked against the table), and sign-in and health routes must answer anyone.
resource "aws_lambda_function_url" "dashboard" {
  #checkov:skip=CKV_AWS_258:The API authenticates each protected route with its own bearer tokens; sign-in and /health must be reachable without AWS credentials.
  function_name      = aws_lambda_function.dashboard.function_name
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
