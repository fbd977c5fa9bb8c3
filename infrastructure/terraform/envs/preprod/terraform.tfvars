# The preprod row of the environment parity table: prod's safety nets, for rehearsals.
environment            = "preprod"
point_in_time_recovery = true
daily_backups          = true
amplify_hosting        = true
deletion_protection    = true
log_retention_days     = 30
workbench_url          = "https://preprod.sentiment-deep-dive.example/app"
workbench_origin       = "https://preprod.sentiment-deep-dive.example"
google_client_id       = "set-me.apps.googleusercontent.com"
