"""Alert rules on a configuration's tickers, and each user's e-mail quota."""
