variable "name_prefix" {
  description = "Prefix of the function names: <name_prefix>-<function>."
  type        = string
}

variable "package_path" {
  description = "Path of the deployment zip of every function but analysis, built by `make package` (build/lambda.zip)."
  type        = string
}

variable "analysis_package_path" {
  description = "Path of the analysis function's zip, built by `make package` (build/lambda-analysis.zip): the shared sources plus the transformer model, onnxruntime and tokenizers; deployed through S3."
  type        = string
}

variable "role_arns" {
  description = "Execution role ARN of each function, by function key (from the iam module)."
  type        = map(string)
}

variable "architecture" {
  description = "Instruction set of the functions; the artifact's wheels must match it."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "Lambda runs x86_64 or arm64."
  }
}

variable "memory_mb" {
  description = "Memory of a function, by function key; 128 MB where none is given."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for mb in values(var.memory_mb) : mb >= 128 && mb <= 10240])
    error_message = "Lambda memory is between 128 and 10240 MB."
  }
}

variable "timeout_s" {
  description = "Timeout of a function in seconds, by function key; 30 s where none is given."
  type        = map(number)
  default     = {}
}

variable "reserved_concurrency" {
  description = "Reserved concurrency by function key; unreserved where none is given."
  type        = map(number)
  default     = {}
}

variable "environment" {
  description = "Environment variables of every function (names and ARNs, never secrets)."
  type        = map(string)
  default     = {}
}

variable "function_environment" {
  description = "Extra environment variables of one function, by function key."
  type        = map(map(string))
  default     = {}
}

variable "analysis_dead_letter_queue_arn" {
  description = "Dead-letter queue of the analysis function's failed asynchronous invocations."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps each function's logs."
  type        = number
  default     = 14
}

variable "tracing" {
  description = "X-Ray active tracing."
  type        = bool
  default     = true
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the dashboard's Function URL from a browser."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
