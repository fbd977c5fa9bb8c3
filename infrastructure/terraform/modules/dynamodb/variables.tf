variable "table_name" {
  description = "Name of the single table (the functions read it from TABLE_NAME)."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Continuous backups with point-in-time recovery (35 days)."
  type        = bool
  default     = true
}

variable "daily_backups" {
  description = "A daily AWS Backup plan for the table."
  type        = bool
  default     = true
}

variable "backup_schedule" {
  description = "Cron expression (UTC) of the daily backup."
  type        = string
  default     = "cron(0 5 * * ? *)"
}

variable "backup_retention_days" {
  description = "How many days a daily backup is kept."
  type        = number
  default     = 35

  validation {
    condition     = var.backup_retention_days >= 1
    error_message = "Keep a backup at least one day."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable (on where the data matters)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
