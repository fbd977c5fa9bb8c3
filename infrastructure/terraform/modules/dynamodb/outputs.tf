output "table_name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}

output "index_arns" {
  description = "ARN of each global secondary index, by index name."
  value       = { for index in aws_dynamodb_table.this.global_secondary_index : index.name => "${aws_dynamodb_table.this.arn}/index/${index.name}" }
}

output "backup_plan_id" {
  description = "ID of the daily backup plan, or null where backups are off."
  value       = var.daily_backups ? aws_backup_plan.daily[0].id : null
}

output "point_in_time_recovery" {
  description = "Whether point-in-time recovery is on."
  value       = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
}

output "daily_backups" {
  description = "Whether a daily backup plan covers the table."
  value       = length(aws_backup_selection.table) > 0
}
