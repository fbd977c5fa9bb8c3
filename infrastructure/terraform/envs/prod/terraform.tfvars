# The prod row of the environment parity table.
environment            = "prod"
point_in_time_recovery = true
daily_backups          = true
amplify_hosting        = true
deletion_protection    = true
log_retention_days     = 90
workbench_url          = "https://sentiment-deep-dive.example/app"
workbench_origin       = "https://sentiment-deep-dive.example"
google_client_id       = "set-me.apps.googleusercontent.com"
