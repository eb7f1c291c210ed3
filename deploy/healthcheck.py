"""The image's HEALTHCHECK: is whatever this container runs healthy? Exit 0 if so, 1 otherwise.

    python -m deploy.healthcheck            # reads the command of PID 1 (the container's process)
    HEALTHCHECK_URL=http://... python -m deploy.healthcheck

One image runs every service, so the check finds the URL from the command it runs:
`python -m services.<name> [all|api|worker] [--http-port N]` asks `/health` on the service's HTTP port
(`--http-port`, else `<PREFIX>_HTTP_PORT`, or `<PREFIX>_WORKER_HTTP_PORT` for a worker; a worker without a port
serves no HTTP and counts as healthy while it runs; delivery/roles.py), `python -m emulator --port N` asks
`/_emulator/health`, the SMTP sink its `--http-port`.
`/health` answers 503 while a consumer, the outbox relay or the database is down (delivery.service).
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

TIMEOUT_S = 4.0
# The services' default ports (their settings' http_port), so the check imports nothing heavy: it runs every
# few seconds in every container. tests/unit/deploy/test_deploy_manifests.py holds them equal to the settings.
DEFAULT_PORTS = {"checkout": 8001, "payment": 8002, "subscription": 8003, "notification": 8004}


def command_of_pid1() -> list[str]:
    return [part.decode() for part in Path("/proc/1/cmdline").read_bytes().split(b"\0") if part]


def _option(args: Sequence[str], name: str, default: str) -> str:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def health_url(command: Sequence[str]) -> str | None:
    """The health URL of `command`, or None for a process that serves no HTTP. ValueError if unknown."""
    if "-m" not in command:
        raise ValueError(f"not a `python -m` command: {' '.join(command)}")
    at = command.index("-m")
    module, args = command[at + 1] if at + 1 < len(command) else "", list(command[at + 2:])
    if module == "emulator":
        return f"http://127.0.0.1:{_option(args, '--port', '8899')}/_emulator/health"
    if module == "deploy.local.smtp_sink":
        return f"http://127.0.0.1:{_option(args, '--http-port', '8026')}/health"
    if module.startswith("services."):
        name = module.split(".")[1]
        if "--http-port" in args or any(a.startswith("--http-port=") for a in args):
            return f"http://127.0.0.1:{_option(args, '--http-port', '')}/health"
        if args[:1] == ["worker"]:
            port = os.environ.get(f"{name.upper()}_WORKER_HTTP_PORT")
            return f"http://127.0.0.1:{port}/health" if port else None
        return f"http://127.0.0.1:{os.environ.get(f'{name.upper()}_HTTP_PORT', DEFAULT_PORTS[name])}/health"
    raise ValueError(f"no health check known for `python -m {module}`")


def check(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - a loopback http URL
            return response.status == 200, f"{url}: {response.status}"
    except OSError as exc:  # refused, timed out, or an HTTP error status (HTTPError is an OSError)
        return False, f"{url}: {exc}"


def main() -> int:
    url = os.environ.get("HEALTHCHECK_URL") or health_url(command_of_pid1())
    if url is None:
        print("no HTTP in this role: healthy while the process runs")
        return 0
    healthy, detail = check(url)
    print(detail)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
