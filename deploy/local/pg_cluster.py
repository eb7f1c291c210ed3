"""A throw-away PostgreSQL cluster of our own (Debian's server binaries, `initdb` + `pg_ctl`), on its own port and
data directory: for runs that restart or crash the database (the chaos run, issue 17) without touching the
shared cluster at 5432 that `postgres.sh` manages.

    python -m deploy.local.pg_cluster start|restart|stop --dir DIR [--port N] [--set NAME=VALUE ...]

`--set` adds server settings to the start, e.g. `--set shared_preload_libraries=pg_stat_statements
--set track_io_timing=on` for a run measured statement by statement (a benchmark pointed at the cluster with
DATABASE_URL; the URL printed uses the cluster's Unix socket, as the services reach the local one).

Trust authentication on loopback only; the server runs as the `postgres` user when we are root (PostgreSQL
refuses to run as root).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from deploy.local.kafka import free_port
from deploy.local.orphan_guard import OrphanGuard

ROLE = "payments"


def _bin_dir() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql (deploy/local/postgres.sh ensure)")
    return versions[-1].parent


class LocalPostgres:
    """One cluster in `work_dir` (data, socket, log) on `port`."""

    def __init__(self, work_dir: Path, port: int | None = None, settings: dict[str, str] | None = None,
                 guard: OrphanGuard | None = None) -> None:
        self.guard = guard  # stops the server (pg_ctl daemonizes it) if the guard's owner dies
        self.work = Path(work_dir)
        self.port = port or free_port()
        self.settings = settings or {}
        self.data, self.log = self.work / "data", self.work / "postgres.log"
        self.bin = _bin_dir()

    @property
    def admin_url(self) -> str:
        return f"postgresql://{ROLE}:{ROLE}@127.0.0.1:{self.port}/postgres"

    @property
    def socket_url(self) -> str:
        return f"postgresql://{ROLE}:{ROLE}@{quote(str(self.work), safe='')}:{self.port}/postgres"

    @staticmethod
    def _as_owner(command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(self._as_owner(list(command)), check=False, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return done

    def _initdb(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.work, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-instructions")

    def start(self) -> str:
        """Create the cluster on first use, start it, and make sure our role exists. Returns the admin URL."""
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        options = (f"-p {self.port} -k {self.work} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                   "-c shared_buffers=64MB -c commit_delay=1000"  # group commit, as postgres.sh sets it
                   + "".join(f" -c {name}={value}" for name, value in self.settings.items()))
        if self.guard is not None:  # told before the start: a server started by a killed owner stops too
            self.guard.command(self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                               "-w", "stop"]))
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")
        self._run(str(self.bin / "psql"), "-h", str(self.work), "-p", str(self.port), "-U", "postgres", "-qtA",
                  "-c", f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN "
                        f"CREATE ROLE {ROLE} LOGIN SUPERUSER PASSWORD '{ROLE}'; END IF; END $$")
        return self.admin_url

    def stop(self, *, crash: bool = False) -> None:
        """`crash`: immediate mode (no checkpoint, recovery at the next start), as a killed server."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate" if crash else "fast", "-w",
                      "stop", check=False)

    def restart(self, *, crash: bool = True) -> float:
        """Stop (as a crash by default) and start again on the same data; returns the seconds it took."""
        started = time.monotonic()
        self.stop(crash=crash)
        self.start()
        return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.pg_cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "restart", "stop"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=55432)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a server setting for the start (repeat)")
    args = parser.parse_args(argv)
    cluster = LocalPostgres(args.dir, args.port, dict(item.split("=", 1) for item in args.set))
    if args.command == "start":
        cluster.start()
        print(cluster.socket_url)
    elif args.command == "restart":
        print(f"restarted in {cluster.restart():.1f}s")
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
