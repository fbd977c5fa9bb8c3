output "table_name" {
  description = "The single table."
  value       = module.dynamodb.table_name
}

output "dashboard_url" {
  description = "The dashboard API's Function URL (API_URL of the workbench)."
  value       = module.lambda.dashboard_url
}

output "analysis_topic_arn" {
  description = "The analysis topic."
  value       = module.sns.topic_arn
}

output "dead_letter_queue_url" {
  description = "Dead letters of the analysis topic and function."
  value       = module.sns.dead_letter_queue_url
}

output "secret_arns" {
  description = "Secrets to fill with `aws secretsmanager put-secret-value`: the provider keys and the unsubscribe links' signing key."
  value       = module.secrets.secret_arns
}

output "oauth_issuer" {
  description = "OAUTH_ISSUER of the dashboard function."
  value       = module.cognito.issuer
}

output "amplify_default_domain" {
  description = "Amplify's domain where the environment hosts the front end, else null."
  value       = var.amplify_hosting ? module.amplify[0].default_domain : null
}

output "parity" {
  description = "This environment's row of the parity table, as planned."
  value = {
    dynamodb               = module.dynamodb.table_name != ""
    point_in_time_recovery = module.dynamodb.point_in_time_recovery
    daily_backups          = module.dynamodb.daily_backups
    amplify_hosting        = length(module.amplify) > 0
  }
}

output "function_memory_mb" {
  description = "Memory of each function in MB."
  value       = module.lambda.memory_mb
}

output "function_runtimes" {
  description = "Runtime of each function."
  value       = module.lambda.runtimes
}

output "function_handlers" {
  description = "Handler of each function."
  value       = module.lambda.handlers
}

output "schedules" {
  description = "Expression of each EventBridge schedule."
  value       = module.eventbridge.schedule_expressions
}

output "function_environment_variables" {
  description = "Names of each function's environment variables (which secrets and URLs it is given)."
  value       = module.lambda.environment_variable_names
}
