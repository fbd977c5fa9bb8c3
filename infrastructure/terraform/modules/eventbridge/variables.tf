variable "name_prefix" {
  description = "Prefix of the rule names."
  type        = string
}

variable "function_arns" {
  description = "ARN of each function, by function key (ingestion, metrics and notification are used)."
  type        = map(string)
}

variable "function_names" {
  description = "Name of each function, by function key (for the invoke permissions)."
  type        = map(string)
}

variable "ingestion_schedule" {
  description = "When ingestion runs (the seed: every 5 minutes)."
  type        = string
  default     = "rate(5 minutes)"
}

variable "metrics_schedule" {
  description = "When the metrics function runs (the seed: every minute)."
  type        = string
  default     = "rate(1 minute)"
}

variable "digest_schedule" {
  description = "When the daily digest goes out (UTC)."
  type        = string
  default     = "cron(0 13 * * ? *)"
}

variable "enabled" {
  description = "Whether the schedules fire (off to pause an environment without destroying it)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every rule."
  type        = map(string)
  default     = {}
}
