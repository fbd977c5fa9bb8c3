"""The Sentiment Deep Dive workbench: a Panel app over the running system's API."""
