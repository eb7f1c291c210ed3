"""Named errors of the notification domain."""

from __future__ import annotations


class InvalidTransition(Exception):
    """A mail was asked to move to a state its current state does not allow."""


class InvalidAddress(ValueError):
    """A recipient or sender address that no SMTP server could accept (syntax, non-ASCII)."""
