"""python -m deploy.invariants: check a stack's invariants (see the package docstring)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from delivery.settings import KafkaSettings
from deploy.invariants.facts import Facts
from deploy.invariants.reading import GROUPS, Sources, read_known_secrets, run
from deploy.invariants.rules import Verdict, judge


def report(facts: Facts) -> tuple[list[Verdict], str]:
    verdicts = judge(facts)
    return verdicts, "\n".join(v.line() for v in verdicts)


def sources_from(args: argparse.Namespace, env: dict[str, str]) -> Sources:
    databases = {name: env[f"{name.upper()}_DATABASE_URL"] for name in GROUPS}
    accepted = {tuple(pair) for pair in json.loads(args.accepted.read_text())} if args.accepted else set()
    return Sources(
        databases=databases,
        emulator_url=args.emulator_url or f"http://127.0.0.1:{env.get('ESCOTT_EMULATOR_PORT', '8899')}",
        sink_url=args.sink_url or f"http://127.0.0.1:{env.get('SMTP_SINK_HTTP_PORT', '8026')}",
        kafka=KafkaSettings(), logs=list(args.logs), known_secrets=read_known_secrets(args.secrets),
        accepted={(str(a), str(b)) for a, b in accepted}, payment_metrics_urls=args.payment_metrics,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.invariants", description=__doc__)
    parser.add_argument("--logs", type=Path, nargs="*", default=[], help="log files to scan for secrets")
    parser.add_argument("--secrets", type=Path, help="JSON list of secrets the run handed out (tokens, cards)")
    parser.add_argument("--accepted", type=Path, help="JSON list of [shop_id, checkout_id] a driver saw accepted")
    parser.add_argument("--emulator-url")
    parser.add_argument("--sink-url")
    parser.add_argument("--payment-metrics", nargs="*", default=[],
                        help="/metrics URLs of every payment process (the janitor's counts, summed)")
    parser.add_argument("--json", action="store_true", help="also print the verdicts as JSON")
    args = parser.parse_args(argv)
    verdicts, text = report(run(sources_from(args, dict(os.environ))))
    print(text)
    if args.json:
        print(json.dumps([v.__dict__ for v in verdicts], ensure_ascii=False))
    return 1 if any(v.violations for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
