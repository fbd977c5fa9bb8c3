"""State holders the components read; each wraps the API client."""
