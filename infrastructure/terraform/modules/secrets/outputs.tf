output "secret_arns" {
  description = "ARN of each provider's secret, by provider name."
  value       = { for name, secret in aws_secretsmanager_secret.provider : name => secret.arn }
}
