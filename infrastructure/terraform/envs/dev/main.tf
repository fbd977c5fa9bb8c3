# One environment of the stack. envs/dev, envs/preprod and envs/prod share this file, variables.tf,
# outputs.tf and versions.tf word for word (a test checks it); they differ only by their
# terraform.tfvars, which holds the environment parity table's row.

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

locals {
  name = "sentiment-deep-dive-${var.environment}"
  tags = {
    project     = "sentiment-deep-dive"
    environment = var.environment
  }
  package_path          = coalesce(var.package_path, "${path.root}/../../../../build/lambda.zip")
  analysis_package_path = coalesce(var.analysis_package_path, "${path.root}/../../../../build/lambda-analysis.zip")

  # Memory of the functions that need more than the module's 128 MB (var.memory_mb overrides).
  # analysis: peak RSS 252 MB (model load, first batch, then two 100-story batches at the
  # 64-token limit), measured by `make bench ARGS="--only lambda_budget"` on the 2-core dev
  # machine (infrastructure/README.md, "Lambda budget"); 384 MB leaves about 50 % headroom.
  function_memory_mb = {
    analysis = 384
  }
}

module "dynamodb" {
  source = "../../modules/dynamodb"

  table_name             = local.name
  point_in_time_recovery = var.point_in_time_recovery
  daily_backups          = var.daily_backups
  backup_retention_days  = var.backup_retention_days
  deletion_protection    = var.deletion_protection
}

module "secrets" {
  source = "../../modules/secrets"

  name_prefix          = "sentiment-deep-dive/${var.environment}"
  recovery_window_days = var.deletion_protection ? 30 : 0
}

module "sns" {
  source = "../../modules/sns"

  topic_name             = "${local.name}-analysis"
  analysis_function_arn  = module.lambda.function_arns["analysis"]
  analysis_function_name = module.lambda.function_names["analysis"]
}

module "iam" {
  source = "../../modules/iam"

  name_prefix           = local.name
  table_arn             = module.dynamodb.table_arn
  index_arns            = module.dynamodb.index_arns
  topic_arn             = module.sns.topic_arn
  dead_letter_queue_arn = module.sns.dead_letter_queue_arn
  secret_arns           = module.secrets.secret_arns
}

module "cognito" {
  source = "../../modules/cognito"

  name                 = local.name
  domain_prefix        = coalesce(var.cognito_domain_prefix, local.name)
  google_client_id     = var.google_client_id
  google_client_secret = var.google_client_secret
  callback_urls        = [var.workbench_url]
  logout_urls          = [var.workbench_url]
  deletion_protection  = var.deletion_protection
}

module "lambda" {
  source = "../../modules/lambda"

  name_prefix                    = local.name
  package_path                   = local.package_path
  analysis_package_path          = local.analysis_package_path
  role_arns                      = module.iam.role_arns
  memory_mb                      = merge(local.function_memory_mb, var.memory_mb)
  log_retention_days             = var.log_retention_days
  analysis_dead_letter_queue_arn = module.sns.dead_letter_queue_arn
  cors_allow_origins             = [var.workbench_origin]

  # Names and ARNs only: the provider keys stay in Secrets Manager.
  environment = {
    SERVICE_ENVIRONMENT         = var.environment
    TABLE_NAME                  = module.dynamodb.table_name
    LOG_LEVEL                   = var.log_level
    TIINGO_API_KEY_SECRET_ARN   = module.secrets.secret_arns["tiingo"]
    FINNHUB_API_KEY_SECRET_ARN  = module.secrets.secret_arns["finnhub"]
    SENDGRID_API_KEY_SECRET_ARN = module.secrets.secret_arns["sendgrid"]
  }

  function_environment = {
    ingestion = {
      ANALYSIS_TOPIC_ARN = module.sns.topic_arn
    }
    dashboard = {
      OAUTH_ISSUER        = module.cognito.issuer
      OAUTH_CLIENT_ID     = module.cognito.client_id
      OAUTH_AUTHORIZE_URL = module.cognito.authorize_url
      OAUTH_TOKEN_URL     = module.cognito.token_url
      OAUTH_REDIRECT_URI  = var.workbench_url
      MAGIC_LINK_URL      = var.workbench_url
      CORS_ALLOW_ORIGIN   = var.workbench_origin
    }
  }
}

module "eventbridge" {
  source = "../../modules/eventbridge"

  name_prefix    = local.name
  function_arns  = module.lambda.function_arns
  function_names = module.lambda.function_names
  enabled        = var.schedules_enabled
}

module "amplify" {
  source = "../../modules/amplify"
  count  = var.amplify_hosting ? 1 : 0

  name       = local.name
  api_url    = module.lambda.dashboard_url
  repository = var.amplify_repository
}
