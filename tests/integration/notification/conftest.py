"""Fixtures of the notification tests: a local SMTP sink per test (its own Maildir and ports)."""

from __future__ import annotations

import pytest

from deploy.local.smtp_sink import smtp_sink


@pytest.fixture
async def sink(tmp_path):
    async with smtp_sink(tmp_path / "Maildir") as running:
        yield running
