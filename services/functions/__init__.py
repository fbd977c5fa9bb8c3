"""Thin Lambda entry points. Each builds its collaborators once per process, then delegates."""
