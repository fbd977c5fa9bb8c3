# One secret per provider key. Terraform creates the secrets, never their values: an operator
# sets each with `aws secretsmanager put-secret-value`, so no key ever lands in the state.

resource "aws_secretsmanager_secret" "provider" {
  for_each = toset(var.providers_with_keys)

  #checkov:skip=CKV_AWS_149:The AWS-managed key (aws/secretsmanager) encrypts the secrets at no cost; a customer-managed key adds $1/month per environment, over the dev budget.
  #checkov:skip=CKV2_AWS_57:Provider API keys are issued by Tiingo, Finnhub and SendGrid; they are rotated at the provider, which no rotation function of ours can do.
  name                    = "${var.name_prefix}/${each.key}-api-key"
  description             = "API key of ${each.key}, read by the functions that call it."
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}
