variable "name" {
  description = "Name of the Amplify app."
  type        = string
}

variable "api_url" {
  description = "URL of the dashboard API the front end calls (API_URL at build time)."
  type        = string
}

variable "repository" {
  description = "Git repository Amplify builds from; null for manual deployments."
  type        = string
  default     = null
}

variable "access_token" {
  description = "Token Amplify reads the repository with (pass with TF_VAR_access_token); null without one."
  type        = string
  default     = null
  sensitive   = true
}

variable "branch_name" {
  description = "Branch that is built and served."
  type        = string
  default     = "main"
}

variable "stage" {
  description = "Amplify stage of the branch."
  type        = string
  default     = "PRODUCTION"

  validation {
    condition     = contains(["PRODUCTION", "BETA", "DEVELOPMENT", "EXPERIMENTAL", "PULL_REQUEST"], var.stage)
    error_message = "Not an Amplify stage."
  }
}

variable "tags" {
  description = "Tags applied to the app and branch."
  type        = map(string)
  default     = {}
}
