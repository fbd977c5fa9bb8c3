# One secret per provider key, and one for the unsubscribe links' signing key. Terraform
# creates the secrets, never their values: an operator sets each with
# `aws secretsmanager put-secret-value`, so no key ever lands in the state.

resource "aws_secretsmanager_secret" "provider" {
  for_each = toset(var.providers_with_keys)

  #checkov:skip=CKV_AWS_149:The AWS-managed key (aws/secretsmanager) encrypts the secrets at no cost; a customer-managed key adds $1/month per environment, over the dev budget.
  #checkov:skip=CKV2_AWS_57:Provider API keys are issued by Tiingo, Finnhub and SendGrid; they are rotated at the provider, which no rotation function of ours can do.
  name                    = "${var.name_prefix}/${each.key}-api-key"
  description             = "API key of ${each.key}, read by the functions that call it."
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

# The key that signs the unsubscribe links of alert and digest e-mails (HMAC-SHA256). As with
# the provider keys, Terraform creates the secret, never its value (a value generated here
# would sit in the state in plain text): an operator sets a random one once, for example
# `openssl rand -base64 48`. Replacing it later voids the links of e-mails already sent.
resource "aws_secretsmanager_secret" "unsubscribe_signing_key" {
  #checkov:skip=CKV_AWS_149:The AWS-managed key (aws/secretsmanager) encrypts the secrets at no cost; a customer-managed key adds $1/month per environment, over the dev budget.
  #checkov:skip=CKV2_AWS_57:Rotating the signing key would void the unsubscribe link of every e-mail already sent; it is replaced by hand only if it leaks.
  name                    = "${var.name_prefix}/unsubscribe-signing-key"
  description             = "Key that signs the unsubscribe links of alert and digest e-mails."
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}
