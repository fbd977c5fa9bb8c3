output "app_id" {
  description = "ID of the Amplify app."
  value       = aws_amplify_app.this.id
}

output "default_domain" {
  description = "Default domain of the app (<branch>.<default_domain> serves the branch)."
  value       = aws_amplify_app.this.default_domain
}
