"""A payment service (real PostgreSQL, Kafka, in-process emulator) for operator operation tests.

`operations_settings` (override per module or with `pytest.mark.parametrize(..., indirect=True)`) tunes the
operation settings, e.g. whether a decrease uses 1Change or 1ReAuth + 1Delete; `reauth_pairs` (the same way)
picks the emulator's reading of 1ReAuth (`new` or `same`, emulator README), its default otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulator.config import EngineConfig, ReauthPairs
from services.payment.settings import OperationSettings
from tests.integration.operations.support import Operations
from tests.integration.payment.conftest import payment_harness

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def operations_settings(request: pytest.FixtureRequest) -> OperationSettings:
    return OperationSettings(**getattr(request, "param", {}))


@pytest.fixture
def reauth_pairs(request: pytest.FixtureRequest) -> ReauthPairs:
    return ReauthPairs(getattr(request, "param", EngineConfig.reauth_pairs))


@pytest.fixture
async def ops(database_url, isolated_kafka, operations_settings, reauth_pairs) -> AsyncIterator[Operations]:
    async with payment_harness(database_url, isolated_kafka, seed=5, api_timeout=60, admin_timeout=10,
                               operations=operations_settings,
                               emulator_config=EngineConfig(reauth_pairs=reauth_pairs)) as h:
        yield Operations(h)
