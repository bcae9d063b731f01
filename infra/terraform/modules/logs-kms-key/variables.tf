variable "description" {
  description = "Description of the KMS key (what it encrypts)."
  type        = string

  validation {
    condition     = length(var.description) > 0 && length(var.description) <= 8192
    error_message = "description must be 1-8192 characters (AWS limit)."
  }
}

variable "log_group_name" {
  description = "Name of the one CloudWatch Logs log group the logs service may use the key for."
  type        = string

  validation {
    condition     = can(regex("^[.\\-_/#A-Za-z0-9]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be 1-512 characters of letters, digits, '_', '-', '/', '.', '#' (CloudWatch Logs limit)."
  }
}

variable "tags" {
  description = "Extra tags on the key (the provider's default_tags add Environment and Project)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) > 0 && length(k) <= 128 && length(v) <= 256])
    error_message = "tags keys must be 1-128 characters and values at most 256 (AWS limits)."
  }
}
