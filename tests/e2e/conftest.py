"""One running system (all services as processes) shared by the end-to-end tests of a module."""

from __future__ import annotations

import uuid

import pytest

from tests.browser import CHROMIUM
from tests.e2e.stack import Shop, Stack, drop_databases, fresh_databases

LOCAL = ("http://127.0.0.1:", "data:", "about:", "blob:")


@pytest.fixture(scope="module")
async def stack(pg_admin_url, kafka_bootstrap, tmp_path_factory, request):
    """`STACK_ENV` in a test module: settings of its system (e.g. a short 3-D Secure window)."""
    workdir = tmp_path_factory.mktemp("stack")
    # Unique per session: every session's workdir is named stack0, and fresh_databases drops (WITH FORCE) what
    # has its names, so a fixed prefix let concurrent e2e sessions empty each other's databases mid-run.
    databases = await fresh_databases(pg_admin_url, f"e2e_{uuid.uuid4().hex[:10]}")
    running = Stack.configure(workdir=workdir, pg_admin_url=pg_admin_url, databases=databases,
                              kafka=kafka_bootstrap)
    running.env.update(getattr(request.module, "STACK_ENV", {}))
    running.start()
    yield running
    running.stop()
    await drop_databases(pg_admin_url, databases)


@pytest.fixture
async def shop(stack):
    shop = Shop(stack)
    yield shop
    await shop.set_faults(None)
    await shop.http.aclose()


@pytest.fixture(scope="module")
async def browser():
    """Debian's Chromium (emulator/install-browser.sh) driven by Playwright, one per module."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    # no CDN, no external asset: every request the pages make stays on this machine (services and emulator)
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else errors.append(f"external request {r.url}"))
    yield page
    await context.close()
    assert not errors, errors
