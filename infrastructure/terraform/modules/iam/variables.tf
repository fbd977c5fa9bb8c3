variable "name_prefix" {
  description = "Prefix of the role names; function names are <name_prefix>-<function>."
  type        = string
}

variable "table_arn" {
  description = "ARN of the single table."
  type        = string
}

variable "index_arns" {
  description = "ARN of each global secondary index, by index name."
  type        = map(string)
}

variable "topic_arn" {
  description = "ARN of the analysis topic (the ingestion function publishes to it)."
  type        = string
}

variable "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue of the analysis function."
  type        = string
}

variable "secret_arns" {
  description = "ARN of each secret a function may read, by name (the providers' API keys, `unsubscribe`)."
  type        = map(string)
}

variable "tags" {
  description = "Tags applied to every role."
  type        = map(string)
  default     = {}
}
