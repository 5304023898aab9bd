"""The one exception the service turns into an HTTP answer."""

from __future__ import annotations


class ApiError(Exception):
    """A request the service refuses or cannot serve: the HTTP status and the message the client sees."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
