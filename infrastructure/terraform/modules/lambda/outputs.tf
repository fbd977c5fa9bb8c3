output "function_arns" {
  description = "ARN of each function, by function key."
  value       = { for name, function in local.functions : name => function.arn }
}

output "function_names" {
  description = "Name of each function, by function key."
  value       = { for name, function in local.functions : name => function.function_name }
}

output "handlers" {
  description = "Handler of each function, by function key."
  value       = local.handlers
}

output "dashboard_url" {
  description = "The dashboard API's Function URL."
  value       = aws_lambda_function_url.dashboard.function_url
}

output "log_group_names" {
  description = "Log group of each function, by function key."
  value       = { for name, group in aws_cloudwatch_log_group.function : name => group.name }
}

output "runtimes" {
  description = "Runtime of each function, by function key."
  value       = { for name, function in local.functions : name => function.runtime }
}

output "artifact_bucket" {
  description = "The S3 bucket the analysis function's artifact is deployed from."
  value       = aws_s3_bucket.artifacts.id
}

output "memory_mb" {
  description = "Memory of each function in MB, by function key."
  value       = { for name, function in local.functions : name => function.memory_size }
}

output "tracing_modes" {
  description = "X-Ray tracing mode of each function, by function key."
  value       = { for name, function in local.functions : name => function.tracing_config[0].mode }
}

output "environment_variable_names" {
  description = "Names of each function's environment variables, by function key (values stay out: they are plan-time unknowns or ARNs)."
  value       = { for name, function in local.functions : name => sort(keys(function.environment[0].variables)) }
}
