output "secret_arns" {
  description = "ARN of each secret, by name: one per provider (its API key) and `unsubscribe` (the key that signs unsubscribe links)."
  value = merge(
    { for name, secret in aws_secretsmanager_secret.provider : name => secret.arn },
    { unsubscribe = aws_secretsmanager_secret.unsubscribe_signing_key.arn },
  )
}
