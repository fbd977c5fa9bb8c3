"""A user's configurations: named sets of tickers, with the business rules of API.md."""
