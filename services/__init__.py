"""The backend of the Sentiment Deep Dive service: functions, domain logic and adapters."""
