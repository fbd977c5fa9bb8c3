output "rule_arns" {
  description = "ARN of each schedule rule, by schedule name."
  value       = { for name, rule in aws_cloudwatch_event_rule.schedule : name => rule.arn }
}

output "schedule_expressions" {
  description = "Expression of each schedule, by schedule name."
  value       = { for name, rule in aws_cloudwatch_event_rule.schedule : name => rule.schedule_expression }
}
