"""A part of a service's start that runs in the background (the producer's connection, a consumer's group join)
and fails with anything but the broker being unreachable is not left to die silently: the process's reaction
(`ON_START_FAILED`: exit in a service process, so it is started again) hears of it; a stop's cancellation is not a
failure."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaError

from delivery import service
from delivery.cancellation import cancel_all
from delivery.roles import Role, run_service
from delivery.settings import KafkaSettings
from tests.waiting import eventually


async def test_a_background_start_that_fails_for_good_is_reported_and_a_cancelled_one_is_not(monkeypatch) -> None:
    reported: list[str] = []
    monkeypatch.setattr(service, "ON_START_FAILED", [reported.append])
    runtime = service.ServiceRuntime(name="svc", database_url="postgresql://127.0.0.1:9/none", kafka=KafkaSettings(),
                                     migrations=Path("."))

    async def join() -> None:
        raise KafkaError("Unexpected error during coordination")

    async def connect() -> None:
        await asyncio.Event().wait()

    runtime._in_background(join(), "join-orders")
    runtime._in_background(connect(), "connect")
    async def heard() -> list[str]:
        return reported

    await eventually(heard, timeout=5, message="the failed join reported")
    await cancel_all(runtime._starting)
    assert reported == ["svc: svc-join-orders failed: KafkaError('Unexpected error during coordination')"]


def test_a_service_process_exits_when_its_start_fails_for_good(monkeypatch) -> None:
    monkeypatch.setattr(service, "ON_START_FAILED", [service.stay_unhealthy])
    built: list[Role] = []

    def build(role: Role):
        built.append(role)
        raise RuntimeError("stop here: the app is not run")

    with pytest.raises(RuntimeError, match="stop here"):
        run_service(name="svc", build=build, settings=cast(Any, None), argv=[])  # settings: unused before build
    assert built and [service.exit_start_failed] == service.ON_START_FAILED
