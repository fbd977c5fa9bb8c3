variable "environment" {
  description = "Name of the environment: dev, preprod or prod."
  type        = string

  validation {
    condition     = contains(["dev", "preprod", "prod"], var.environment)
    error_message = "The environments are dev, preprod and prod."
  }
}

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"
}

variable "point_in_time_recovery" {
  description = "Parity table: point-in-time recovery of the table."
  type        = bool
}

variable "daily_backups" {
  description = "Parity table: daily AWS Backup of the table."
  type        = bool
}

variable "amplify_hosting" {
  description = "Parity table: Amplify hosting of the front end."
  type        = bool
}

variable "backup_retention_days" {
  description = "Days a daily backup is kept (where backups are on)."
  type        = number
  default     = 35
}

variable "deletion_protection" {
  description = "Protect the table and the user pool from deletion, and keep deleted secrets 30 days."
  type        = bool
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the functions' logs."
  type        = number
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = "INFO"
}

variable "memory_mb" {
  description = "Memory of a function by function key, over local.function_memory_mb; 128 MB where neither gives one."
  type        = map(number)
  default     = {}
}

variable "schedules_enabled" {
  description = "Whether the ingestion, metrics and digest schedules fire."
  type        = bool
  default     = true
}

variable "package_path" {
  description = "Deployment zip of every function but analysis; build/lambda.zip of the repository (make package) when null."
  type        = string
  default     = null
}

variable "analysis_package_path" {
  description = "Deployment zip of the analysis function; build/lambda-analysis.zip of the repository (make package) when null."
  type        = string
  default     = null
}

variable "workbench_url" {
  description = "The page OAuth and magic links return to (the workbench's /app)."
  type        = string
}

variable "workbench_origin" {
  description = "Origin of the workbench, allowed by the API's CORS."
  type        = string
}

variable "cognito_domain_prefix" {
  description = "Hosted UI domain prefix; the stack's name when null."
  type        = string
  default     = null
}

variable "google_client_id" {
  description = "OAuth client ID of the Google Cloud project."
  type        = string
}

variable "google_client_secret" {
  description = "OAuth client secret of the Google Cloud project (TF_VAR_google_client_secret)."
  type        = string
  sensitive   = true
}

variable "amplify_repository" {
  description = "Repository Amplify builds the front end from; null for manual deployments."
  type        = string
  default     = null
}
