"""A function's logger whose JSON lines a test reads back."""

from __future__ import annotations

import io
import logging

from aws_lambda_powertools import Logger

from services.observability import get_logger


def buffered_logger(service: str) -> tuple[Logger, io.StringIO]:
    """The logger `get_logger(service)` gives a function, also writing its JSON lines, as its
    formatter makes them, to the buffer returned with it."""
    logger = get_logger(service)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    return logger, stream
