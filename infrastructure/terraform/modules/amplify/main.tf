# Hosting of the front end where the environment wants it (not in dev, by the parity table).
# Without a repository the app takes manual deployments (a zip of the built site through
# `aws amplify create-deployment`); with one, Amplify builds each push of the branch.

resource "aws_amplify_app" "this" {
  name         = var.name
  repository   = var.repository
  access_token = var.access_token
  platform     = "WEB"

  environment_variables = {
    API_URL = var.api_url
  }

  # Single-page routing: every path without a file extension serves index.html.
  custom_rule {
    source = "</^[^.]+$|\\.(?!(css|gif|ico|jpg|js|png|txt|svg|woff|woff2|ttf|map|json)$)([^.]+$)/>"
    target = "/index.html"
    status = "200"
  }

  tags = var.tags
}

resource "aws_amplify_branch" "this" {
  app_id            = aws_amplify_app.this.id
  branch_name       = var.branch_name
  stage             = var.stage
  enable_auto_build = var.repository != null
  tags              = var.tags
}
