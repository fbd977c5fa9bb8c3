variable "topic_name" {
  description = "Name of the analysis topic (the dead-letter queue is named after it)."
  type        = string
}

variable "analysis_function_arn" {
  description = "ARN of the analysis function, the topic's subscriber."
  type        = string
}

variable "analysis_function_name" {
  description = "Name of the analysis function (for its invoke permission)."
  type        = string
}

variable "topic_kms_key" {
  description = "KMS key of the topic's encryption at rest (the AWS-managed SNS key by default)."
  type        = string
  default     = "alias/aws/sns"
}

variable "dlq_retention_seconds" {
  description = "How long a dead letter is kept (at most 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_retention_seconds >= 60 && var.dlq_retention_seconds <= 1209600
    error_message = "SQS keeps a message between 60 seconds and 14 days."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
