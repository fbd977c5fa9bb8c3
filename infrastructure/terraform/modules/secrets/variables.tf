variable "name_prefix" {
  description = "Prefix of every secret name, e.g. sentiment-deep-dive/dev."
  type        = string
}

variable "providers_with_keys" {
  description = "External providers whose API key is kept in Secrets Manager."
  type        = list(string)
  default     = ["tiingo", "finnhub", "sendgrid"]
}

variable "recovery_window_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once)."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags applied to every secret."
  type        = map(string)
  default     = {}
}
