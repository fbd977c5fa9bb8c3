"""Clients of the external providers (Tiingo, Finnhub) behind small protocols."""
