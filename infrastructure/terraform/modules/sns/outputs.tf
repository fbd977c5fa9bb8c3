output "topic_arn" {
  description = "ARN of the analysis topic (ANALYSIS_TOPIC_ARN of the ingestion function)."
  value       = aws_sns_topic.analysis.arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue of the topic and of the analysis function."
  value       = aws_sqs_queue.dead_letters.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letters.id
}
