"""What a benchmark round costs PostgreSQL, statement by statement: per unit, from `pg_stat_statements` (calls,
execution and planning time, rows, buffers, WAL), `pg_stat_wal` (WAL bytes, records, full-page images) and the
CPU of the cluster's own processes (checkpointer, walwriter, autovacuum, ... besides the backends; /proc).

Needs a server started with `shared_preload_libraries=pg_stat_statements` (`python -m deploy.local.pg_cluster
start --set shared_preload_libraries=pg_stat_statements --set pg_stat_statements.track_planning=on ...`) and the
extension created in the admin database; `checkout_bench.py --statements` prints it per round.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.system_cost import CLOCK_TICKS, cpu_seconds, descendants

STATEMENTS = """
SELECT d.datname, s.queryid, s.query, s.calls, s.total_exec_time, s.plans, s.total_plan_time, s.rows,
       s.shared_blks_hit, s.shared_blks_read, s.shared_blks_dirtied, s.temp_blks_written, s.wal_bytes
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = ANY($1::text[])
"""
COUNTERS = ("calls", "total_exec_time", "plans", "total_plan_time", "rows", "shared_blks_hit", "shared_blks_read",
            "shared_blks_dirtied", "temp_blks_written", "wal_bytes")


def cluster_cpu(postmaster: int) -> dict[str, float]:
    """CPU seconds of the cluster's processes by kind (`postgres: walwriter`, ... ; backends as `backend`), and of
    the ones already gone (the postmaster's reaped children: autovacuum workers, exited backends) as `exited`."""
    found: dict[str, float] = {}
    for pid in descendants(postmaster)[1:]:
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        kind = title.removeprefix("postgres: ").split(" ")[0] if title.startswith("postgres: ") else title
        kind = "backend" if "@" in title or kind not in _BACKGROUND else kind
        found[kind] = found.get(kind, 0.0) + (cpu_seconds(pid) or 0.0)
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    found["exited"] = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    found["postmaster"] = cpu_seconds(postmaster) or 0.0
    return found


_BACKGROUND = {"checkpointer", "background", "walwriter", "autovacuum", "logical", "stats", "archiver"}


INDEXES = """
SELECT i.relname AS table_name, i.indexrelname AS index_name, i.idx_scan,
       t.n_tup_ins + t.n_tup_upd - t.n_tup_hot_upd AS index_writes
FROM pg_stat_user_indexes i JOIN pg_stat_user_tables t USING (relid)
"""


async def index_use(databases: dict[str, str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(database, index) -> (scans, rows written to its table other than HOT updates) so far."""
    found = {}
    for name, url in databases.items():
        conn = await asyncpg.connect(url)
        try:
            for r in await conn.fetch(INDEXES):
                found[(name, f"{r['table_name']}.{r['index_name']}")] = (r["idx_scan"], r["index_writes"])
        finally:
            await conn.close()
    return found


@dataclass(frozen=True, kw_only=True)
class StatementSnapshot:
    statements: dict[tuple[str, int], dict]  # (database, queryid) -> counters and text
    wal: dict[str, float]
    cpu: dict[str, float]
    indexes: dict[tuple[str, str], tuple[int, int]]

    @classmethod
    async def take(cls, admin_url: str, databases: dict[str, str]) -> StatementSnapshot:
        """`databases`: name -> url of the run's databases."""
        conn = await asyncpg.connect(admin_url)
        try:
            rows = await conn.fetch(STATEMENTS, list(databases))
            wal = dict(await conn.fetchrow("SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync, "
                                           "(SELECT sum(sessions) FROM pg_stat_database WHERE datname = ANY($1)) "
                                           "AS sessions FROM pg_stat_wal", list(databases)))
            postmaster = int((Path(await conn.fetchval("SHOW data_directory")) / "postmaster.pid")
                             .read_text().split()[0])
        finally:
            await conn.close()
        return cls(statements={(r["datname"], r["queryid"]): dict(r) for r in rows},
                   wal={k: float(v) for k, v in wal.items()}, cpu=cluster_cpu(postmaster),
                   indexes=await index_use(databases))

    def report(self, before: StatementSnapshot, *, count: int, top: int = 30, unit: str = "order") -> str:
        spent = self._statements_since(before)
        total = {c: sum(d[c] / count for d in spent) for c in COUNTERS}
        wal = {k: (v - before.wal.get(k, 0.0)) / count for k, v in self.wal.items()}
        cpu = {k: (v - before.cpu.get(k, 0.0)) * 1000 / count for k, v in self.cpu.items()}
        lines = [
            f"  PostgreSQL per {unit}: {total['calls']:.1f} statements, exec {total['total_exec_time']:.2f} ms, plan "
            f"{total['total_plan_time']:.2f} ms ({total['plans']:.1f} plans), rows {total['rows']:.1f}, blocks hit "
            f"{total['shared_blks_hit']:.0f} read {total['shared_blks_read']:.1f} dirtied "
            f"{total['shared_blks_dirtied']:.1f}, temp blocks {total['temp_blks_written']:.1f}; WAL "
            f"{wal['wal_bytes']:.0f} bytes, {wal['wal_records']:.1f} records, {wal['wal_fpi']:.2f} full pages, "
            f"{wal['wal_write']:.1f} writes, {wal['wal_sync']:.1f} syncs; "
            f"{wal['sessions'] * count:.0f} connections opened in the round",
            f"  cluster core-ms per {unit}: " + ", ".join(
                f"{k} {v:.2f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]) if abs(v) >= 0.005),
            f"  statements by time (per {unit}: calls, exec ms, plan ms, rows/call, blocks hit, dirtied, WAL bytes):",
        ]
        lines += [f"    {d['calls'] / count:5.2f} {d['total_exec_time'] / count:6.3f} "
                  f"{d['total_plan_time'] / count:6.3f} {d['rows'] / d['calls']:5.1f} "
                  f"{d['shared_blks_hit'] / count:6.1f} {d['shared_blks_dirtied'] / count:5.2f} "
                  f"{d['wal_bytes'] / count:6.0f}  "
                  f"{d['db'].rsplit('_', 1)[-1]}: {d['query'][:150]}" for d in spent[:top]]
        unread = [f"{db.rsplit('_', 1)[-1]} {index} ({written / count:.1f})"
                  for (db, index), written in self._unread_indexes_since(before).items()]
        lines.append(f"  indexes written but not read in the round (rows written per {unit}): "
                     + (", ".join(unread) or "none"))
        return "\n".join(lines)

    def _statements_since(self, before: StatementSnapshot) -> list[dict]:
        """Each statement's counters over the round, the costliest (execution + planning) first."""
        spent: list[dict] = []
        for key, now in self.statements.items():
            was = before.statements.get(key, {})
            delta = {c: float(now[c]) - float(was.get(c, 0)) for c in COUNTERS}
            if delta["calls"] > 0:
                spent.append({**delta, "db": key[0], "query": " ".join(now["query"].split())})
        return sorted(spent, key=lambda d: -(d["total_exec_time"] + d["total_plan_time"]))

    def _unread_indexes_since(self, before: StatementSnapshot) -> dict[tuple[str, str], int]:
        """Indexes no scan used over the round while their table was written: (database, index) -> rows written.
        Unique indexes still serve as constraints (their checks are not scans)."""
        found = {}
        for key, (scans, writes) in sorted(self.indexes.items()):
            scans_before, writes_before = before.indexes.get(key, (0, 0))
            if scans == scans_before and writes > writes_before:
                found[key] = writes - writes_before
        return found
