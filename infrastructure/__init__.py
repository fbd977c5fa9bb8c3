"""Deployment to AWS: Terraform (`terraform/`) and the Lambda artifact (`packaging/`)."""
