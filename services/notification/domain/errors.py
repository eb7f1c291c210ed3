"""Named errors of the notification domain."""

from __future__ import annotations


class InvalidTransition(Exception):
    """A mail was asked to move to a state its current state does not allow."""


class ResendConflict(Exception):
    """An idempotency key already used for a resend of the same mail with another body: `fields` differ."""

    def __init__(self, message: str, *, fields: list[str]):
        super().__init__(message)
        self.fields = fields


class InvalidAddress(ValueError):
    """A recipient or sender address that no SMTP server could accept (syntax, non-ASCII)."""
