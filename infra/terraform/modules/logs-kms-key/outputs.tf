output "arn" {
  description = "ARN of the key, for the log group's kms_key_id (and any other use of the same key)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Key ID, for an alias."
  value       = aws_kms_key.this.key_id
}
