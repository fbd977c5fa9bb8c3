output "role_arns" {
  description = "Execution role ARN of each function, by function key."
  value       = { for name, role in aws_iam_role.function : name => role.arn }
}

output "policies" {
  description = "The inline policy document of each function, by function key (for review)."
  value       = { for name, document in data.aws_iam_policy_document.function : name => document.json }
}

output "secrets_read" {
  description = "Names of the secrets each function's role may read, by function key: the function is given exactly these ARNs."
  value       = { for name, access in local.access : name => access.secrets }
}
