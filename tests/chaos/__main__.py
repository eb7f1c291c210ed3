"""`make chaos`: python -m tests.chaos [--orders N] [--rate R] [--seed S] [--work DIR]

Defaults from CHAOS_ORDERS (10000), CHAOS_RATE (20/s), CHAOS_SEED (17). Prints the figures and the checker's
lines; exit status 1 on any violated invariant. The work directory keeps the stack log and the databases' cluster.
SIGTERM or SIGHUP (timeout(1), a CI job cancelled) stops the world as the end of a run does; however the run ends,
SIGKILL included, its orphan guard (`deploy.local.orphan_guard`) leaves no process of it running.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from deploy.local.termination import exit_on_termination_signals
from tests.chaos.report import describe
from tests.chaos.run import execute
from tests.chaos.schedule import Profile


def main(argv: list[str] | None = None) -> int:
    exit_on_termination_signals()  # `execute`'s `finally` stops the world
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--orders", type=int, default=int(os.environ.get("CHAOS_ORDERS", "10000")))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("CHAOS_RATE", "20")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", "17")))
    parser.add_argument("--kills", type=int, default=None, help="kills per service (default: 2, +1 per 2000 orders)")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    kills = args.kills if args.kills is not None else 2 + args.orders // 2000
    profile = Profile(orders=args.orders, rate=args.rate, seed=args.seed, kills_per_service=kills,
                      hostile_rounds=max(2, args.orders // 2000))
    work = args.work or Path(tempfile.mkdtemp(prefix="chaos-"))
    work.chmod(0o755)  # mkdtemp makes it 0700: the chaos cluster's server runs as `postgres` and must reach its dir
    print(f"chaos run in {work} (stack log: {work / 'stack.log'})", flush=True)
    outcome = execute(profile, work)
    print(describe(outcome), flush=True)
    return 1 if outcome.violations else 0


if __name__ == "__main__":
    sys.exit(main())
