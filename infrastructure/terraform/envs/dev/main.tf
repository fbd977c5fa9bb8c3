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

  # The variable that names each secret's ARN (services/secrets.py reads them at cold start).
  secret_variables = {
    tiingo      = "TIINGO_API_KEY_SECRET_ARN"
    finnhub     = "FINNHUB_API_KEY_SECRET_ARN"
    sendgrid    = "SENDGRID_API_KEY_SECRET_ARN"
    unsubscribe = "UNSUBSCRIBE_SIGNING_KEY_SECRET_ARN"
  }
  # Each function is given the ARNs of exactly the secrets its role may read: a function that
  # were given one more would fail its cold start asking for it.
  secret_environment = {
    for function, secrets in module.iam.secrets_read : function => {
      for secret in secrets : local.secret_variables[secret] => module.secrets.secret_arns[secret]
    }
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

  # Names, URLs and ARNs only: the keys stay in Secrets Manager. MAGIC_LINK_URL is the
  # workbench page every e-mail links to (sign-in links, alerts, digests); the module adds
  # PUBLIC_API_URL, the dashboard's Function URL, for the unsubscribe links.
  environment = {
    SERVICE_ENVIRONMENT = var.environment
    TABLE_NAME          = module.dynamodb.table_name
    LOG_LEVEL           = var.log_level
    MAGIC_LINK_URL      = var.workbench_url
  }

  function_environment = {
    ingestion = merge(local.secret_environment["ingestion"], {
      ANALYSIS_TOPIC_ARN = module.sns.topic_arn
    })
    analysis = local.secret_environment["analysis"]
    dashboard = merge(local.secret_environment["dashboard"], {
      OAUTH_ISSUER        = module.cognito.issuer
      OAUTH_CLIENT_ID     = module.cognito.client_id
      OAUTH_AUTHORIZE_URL = module.cognito.authorize_url
      OAUTH_TOKEN_URL     = module.cognito.token_url
      OAUTH_REDIRECT_URI  = var.workbench_url
      CORS_ALLOW_ORIGIN   = var.workbench_origin
    })
    notification = local.secret_environment["notification"]
    metrics      = local.secret_environment["metrics"]
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
