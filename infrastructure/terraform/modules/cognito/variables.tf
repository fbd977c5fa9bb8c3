variable "name" {
  description = "Name of the user pool."
  type        = string
}

variable "domain_prefix" {
  description = "Prefix of the hosted UI domain (<prefix>.auth.<region>.amazoncognito.com); globally unique."
  type        = string
}

variable "google_client_id" {
  description = "OAuth client ID of the Google Cloud project."
  type        = string
}

variable "google_client_secret" {
  description = "OAuth client secret of the Google Cloud project (pass with TF_VAR_google_client_secret)."
  type        = string
  sensitive   = true
}

variable "callback_urls" {
  description = "Pages the hosted UI may send the browser back to (the workbench's /app)."
  type        = list(string)
}

variable "logout_urls" {
  description = "Pages the hosted UI may send the browser to after sign-out."
  type        = list(string)
  default     = []
}

variable "deletion_protection" {
  description = "Refuse deleting the user pool."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to the user pool."
  type        = map(string)
  default     = {}
}
