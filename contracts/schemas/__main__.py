"""CLI: `python -m contracts.schemas check|write [--dir DIR] [--allow-breaking]` (see the package doc)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contracts.schemas import SNAPSHOT_DIR, check, current_schemas, load_snapshots, write_snapshots

_HINT = "run `python -m contracts.schemas write` and commit the snapshots"
_BREAKING_HINT = "incompatible: give the changed event a new type name (e.g. .v2) instead of changing it"


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the process exit code (0 = ok)."""
    parser = argparse.ArgumentParser(prog="python -m contracts.schemas", description=__doc__)
    parser.add_argument("command", choices=["check", "write"])
    parser.add_argument("--dir", type=Path, default=SNAPSHOT_DIR, help="snapshot directory")
    parser.add_argument(
        "--allow-breaking", action="store_true", help="write even if it records an incompatible change"
    )
    args = parser.parse_args(argv)

    result = check(load_snapshots(args.dir), current_schemas())
    for problem in result.incompatible:
        print(f"INCOMPATIBLE {problem}", file=sys.stderr)
    if args.command == "check":
        for problem in result.stale:
            print(f"STALE {problem}", file=sys.stderr)
        if result.incompatible:
            print(_BREAKING_HINT, file=sys.stderr)
        elif result.stale:
            print(_HINT, file=sys.stderr)
        else:
            print(f"contracts: {len(current_schemas())} event schemas match their snapshots")
        return 0 if result.ok else 1

    if result.incompatible and not args.allow_breaking:
        print(f"{_BREAKING_HINT}; nothing written (use --allow-breaking to override)", file=sys.stderr)
        return 1
    written = write_snapshots(args.dir)
    print(f"wrote {len(written)} schema snapshots to {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
