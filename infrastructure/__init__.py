"""Deployment of the services to AWS: Terraform (`terraform/`) and the Lambda artifact (`packaging/`)."""
