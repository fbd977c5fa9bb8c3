# The dev row of the environment parity table: no point-in-time recovery, no daily backups,
# no Amplify hosting (the seed's ~$2.50/month environment).
environment            = "dev"
point_in_time_recovery = false
daily_backups          = false
amplify_hosting        = false
deletion_protection    = false
log_retention_days     = 7
workbench_url          = "http://127.0.0.1:5006/app"
workbench_origin       = "http://127.0.0.1:5006"
google_client_id       = "set-me.apps.googleusercontent.com"
