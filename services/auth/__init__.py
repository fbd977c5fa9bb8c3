"""Who is calling: bearer sessions, the sign-in journeys and each account's limits."""
