"""Sentiment scoring: the text model and the ensemble of sources."""
