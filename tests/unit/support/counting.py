"""In-memory repositories that count what the code under test reads from them: a cache's
worth is the reads it saves."""

from __future__ import annotations

from services.store.memory import InMemoryUserRepository
from services.store.models import User


class CountingUsers(InMemoryUserRepository):
    """The in-memory user repository, counting its account reads (`get`) in `reads`."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, user_id: str) -> User:
        self.reads += 1
        return super().get(user_id)
