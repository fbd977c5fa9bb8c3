"""Market reference data: the universe of listed tickers used for look-up and validation."""
