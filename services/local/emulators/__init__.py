"""Local HTTP emulators of the news and price providers, backed by one seedable `NewsWorld`."""
