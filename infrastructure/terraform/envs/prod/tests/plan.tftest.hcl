# `terraform test` in plan mode against a mocked AWS provider: no credentials, no API calls.
# The values under test come from this environment's terraform.tfvars.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  google_client_secret = "test-only"
}

run "parity_row" {
  command = plan

  assert {
    condition     = output.parity.point_in_time_recovery == true
    error_message = "prod keeps point-in-time recovery."
  }

  assert {
    condition     = output.parity.daily_backups == true
    error_message = "prod takes daily backups."
  }

  assert {
    condition     = output.parity.amplify_hosting == true
    error_message = "prod hosts the front end on Amplify."
  }
}

run "functions_and_schedules" {
  command = plan

  assert {
    condition     = alltrue([for name, mb in output.function_memory_mb : mb == 128 if name != "analysis"])
    error_message = "Every function but analysis runs in 128 MB."
  }

  assert {
    condition     = output.function_memory_mb["analysis"] > 128
    error_message = "analysis, which loads the transformer model, gets more than 128 MB."
  }

  assert {
    condition     = output.function_runtimes["analysis"] == "python3.12" && output.function_runtimes["dashboard"] == "python3.11"
    error_message = "analysis runs python3.12 (onnxruntime needs Amazon Linux 2023's glibc); the others python3.11."
  }

  assert {
    condition     = output.function_handlers["metrics"] == "services.functions.metrics.handler" && length(output.function_handlers) == 5
    error_message = "Five functions, each with its handler."
  }

  assert {
    condition     = output.schedules["ingestion"] == "rate(5 minutes)" && output.schedules["metrics"] == "rate(1 minute)"
    error_message = "Ingestion every 5 minutes, metrics every minute."
  }
}

run "email_links_and_secrets" {
  command = plan

  assert {
    condition = alltrue([
      for name in ["analysis", "notification"] : alltrue([
        for variable in ["PUBLIC_API_URL", "MAGIC_LINK_URL", "UNSUBSCRIBE_SIGNING_KEY_SECRET_ARN"] :
        contains(output.function_environment_variables[name], variable)
      ])
    ])
    error_message = "The functions that queue alert and digest e-mails know the API's URL, the workbench's URL and the unsubscribe key's secret."
  }

  assert {
    condition     = contains(output.function_environment_variables["dashboard"], "UNSUBSCRIBE_SIGNING_KEY_SECRET_ARN")
    error_message = "The dashboard checks unsubscribe links: it reads the signing key."
  }

  assert {
    condition     = length([for variable in output.function_environment_variables["metrics"] : variable if endswith(variable, "_SECRET_ARN")]) == 0
    error_message = "The metrics function reads no secret, so it is given no secret's ARN."
  }
}
