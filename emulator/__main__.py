"""``python -m emulator --host 127.0.0.1 --port 8899 [--merchants FILE] [--tls]``: run the e-SCOTT emulator.

Merchants come from ``--merchants``, else ``ESCOTT_EMULATOR_MERCHANTS_FILE`` / ``ESCOTT_EMULATOR_MERCHANTS``
(inline JSON); the demo merchant is always present. Stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal
from pathlib import Path

from emulator.config import EngineConfig, ReauthPairs, load_merchants
from emulator.engine import Engine
from emulator.runtime import DEFAULT_MAX_HOLD_SECONDS, Runtime
from emulator.server import create_app
from emulator.testing import bind_socket, start_runner
from emulator.tls import DEFAULT_DIR, ensure_certificates, server_context, trust_instructions


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (every lifetime the reference leaves open is one)."""
    parser = argparse.ArgumentParser(prog="python -m emulator", description="e-SCOTT Smart gateway emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--merchants", help="JSON file with merchants (see emulator/README.md)")
    parser.add_argument("--seed", type=int, default=None, help="seed ids (default: random)")
    parser.add_argument("--token-ttl", type=float, default=EngineConfig.token_ttl_seconds, help="seconds")
    parser.add_argument("--tds-timeout", type=float, default=EngineConfig.tds_timeout_seconds,
                        help="seconds a 3-D Secure challenge may take before its answer is KHW")
    parser.add_argument("--retention-days", type=int, default=EngineConfig.process_retention_days)
    parser.add_argument("--max-hold", type=float, default=DEFAULT_MAX_HOLD_SECONDS,
                        help="longest a 'no answer' request is held, seconds")
    parser.add_argument("--reauth-pairs", choices=[p.value for p in ReauthPairs],
                        default=EngineConfig.reauth_pairs.value,
                        help="1ReAuth: 'new' transaction and pair, or the 'same' transaction re-authorized in place "
                             "(old and new pair both name it); unknown at Sony, see emulator/README.md")
    parser.add_argument("--transaction-date", choices=["any", "today"], default="any",
                        help="'today': a TransactionDate other than today (JST) is K05; 'any': only its format")
    parser.add_argument("--tls", action="store_true",
                        help="also serve HTTPS for www.e-scott.jp / www.test.e-scott.jp / 127.0.0.1 with a local CA "
                             "created once under .cache/emulator-tls (see emulator/README.md)")
    parser.add_argument("--https-port", type=int, default=8443, help="HTTPS port with --tls (443 needs root)")
    parser.add_argument("--tls-dir", type=Path, default=DEFAULT_DIR, help="where the CA and certificate are kept")
    parser.add_argument("--max-amount-digits", type=int, choices=[7, 8], default=EngineConfig.max_amount_digits,
                        help="longest Amount (7: EC-CUBE's reading, 8: Welcart's)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run until SIGINT/SIGTERM."""
    config = EngineConfig(token_ttl_seconds=args.token_ttl, process_retention_days=args.retention_days,
                          reauth_pairs=ReauthPairs(args.reauth_pairs), max_amount_digits=args.max_amount_digits,
                          transaction_date_today=args.transaction_date == "today", tds_timeout_seconds=args.tds_timeout)
    engine = Engine(load_merchants(args.merchants), config, seed=args.seed)
    runtime = Runtime(engine=engine, max_hold_seconds=args.max_hold)
    sock = bind_socket(args.host, args.port)
    files = ensure_certificates(args.tls_dir) if args.tls else None
    https = (bind_socket(args.host, args.https_port), server_context(files)) if files is not None else None
    runner = await start_runner(create_app(engine, runtime), sock, https=https)
    host, port = sock.getsockname()[:2]
    print(f"e-SCOTT emulator listening on http://{host}:{port}", flush=True)
    if https is not None and files is not None:
        https_port = https[0].getsockname()[1]
        print(f"e-SCOTT emulator listening on https://{host}:{https_port}", flush=True)
        print(trust_instructions(files, https_port), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def raise_fd_limit() -> None:
    """Allow as many sockets as the hard limit permits: thousands of concurrent requests need them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    raise_fd_limit()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
