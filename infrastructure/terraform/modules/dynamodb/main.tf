# The single table. Its keys, indexes and TTL attribute mirror services/store/schema.py, the one
# definition in code; tests/infrastructure/test_schema_sync.py fails when the two drift apart.

resource "aws_dynamodb_table" "this" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "PK"
  range_key                   = "SK"
  deletion_protection_enabled = var.deletion_protection

  #checkov:skip=CKV_AWS_119:The AWS-owned key encrypts the table at rest at no cost; a customer-managed key adds $1/month per environment, over the dev budget, for no requirement we have.
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is set per environment (var.point_in_time_recovery): off in dev by the parity table, on in preprod and prod.

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  attribute {
    name = "sentiment"
    type = "S"
  }

  attribute {
    name = "timestamp"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "tag"
    type = "S"
  }

  # Sparse indexes: only items carrying the partition attribute appear in them.
  global_secondary_index {
    name            = "by_sentiment"
    hash_key        = "sentiment"
    range_key       = "timestamp"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "by_status"
    hash_key        = "status"
    range_key       = "timestamp"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "by_tag"
    hash_key        = "tag"
    range_key       = "timestamp"
    projection_type = "ALL"
  }

  # DynamoDB deletes expired items lazily; reads also filter on expires_at > now.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}

# Daily backups through AWS Backup, only where the environment asks for them.

resource "aws_backup_vault" "this" {
  count = var.daily_backups ? 1 : 0

  #checkov:skip=CKV_AWS_166:The vault uses the AWS-managed backup key; a customer-managed key adds a monthly fee for no requirement we have.
  name = "${var.table_name}-backups"
  tags = var.tags
}

resource "aws_backup_plan" "daily" {
  count = var.daily_backups ? 1 : 0

  name = "${var.table_name}-daily"

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this[0].name
    schedule          = var.backup_schedule

    lifecycle {
      delete_after = var.backup_retention_days
    }
  }

  tags = var.tags
}

data "aws_iam_policy_document" "backup_assume" {
  count = var.daily_backups ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  count = var.daily_backups ? 1 : 0

  name               = "${var.table_name}-backup"
  assume_role_policy = data.aws_iam_policy_document.backup_assume[0].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "backup" {
  count = var.daily_backups ? 1 : 0

  role       = aws_iam_role.backup[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
}

resource "aws_backup_selection" "table" {
  count = var.daily_backups ? 1 : 0

  name         = "${var.table_name}-table"
  plan_id      = aws_backup_plan.daily[0].id
  iam_role_arn = aws_iam_role.backup[0].arn
  resources    = [aws_dynamodb_table.this.arn]
}

data "aws_partition" "current" {}
