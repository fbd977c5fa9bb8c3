output "user_pool_id" {
  description = "ID of the user pool."
  value       = aws_cognito_user_pool.this.id
}

output "client_id" {
  description = "ID of the app client (OAUTH_CLIENT_ID)."
  value       = aws_cognito_user_pool_client.app.id
}

output "issuer" {
  description = "Issuer of the pool's ID tokens (OAUTH_ISSUER)."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "authorize_url" {
  description = "Authorization endpoint of the hosted UI (OAUTH_AUTHORIZE_URL)."
  value       = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.name}.amazoncognito.com/oauth2/authorize"
}

output "token_url" {
  description = "Token endpoint of the hosted UI (OAUTH_TOKEN_URL)."
  value       = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.name}.amazoncognito.com/oauth2/token"
}
