"""Databases that look a year old: every table that grows with orders (orders, submissions, payments, gateway
attempts, mails, inbox, ...) gets N copies of one of its warm-up rows, generated in SQL, unique columns varied;
then what the round did to them: sequential and index scans per table (pg_stat_user_tables deltas), so a hot
query that reads a big table without an index shows, and EXPLAIN of the hottest lookups.
"""

from __future__ import annotations

import time

import asyncpg

SKIP = {"schema_migrations", "outbox"}
# the hottest lookups per service database (the adapters' statements, parameters from a stored row)
EXPLAINED = {
    "checkout": [("orders", "SELECT * FROM orders WHERE shop_id = $1 AND checkout_id = $2", ("shop_id", "checkout_id")),
                 ("orders", "SELECT * FROM orders WHERE order_id = $1 FOR UPDATE", ("order_id",)),
                 ("checkout_submissions", "SELECT true FROM checkout_submissions WHERE shop_id = $1 AND "
                                          "checkout_id = $2", ("shop_id", "checkout_id"))],
    "payment": [("payments", "SELECT * FROM payments WHERE order_id = $1 FOR UPDATE", ("order_id",))],
    "notification": [("inbox", "SELECT body_fingerprint FROM inbox WHERE consumer = $1 AND event_id = $2",
                      ("consumer", "event_id"))],
}


async def growing_tables(conn: asyncpg.Connection, at_least: int) -> list[str]:
    rows = await conn.fetch("SELECT relname, n_live_tup FROM pg_stat_user_tables")
    counts = {r["relname"]: int(await conn.fetchval(f'SELECT count(*) FROM "{r["relname"]}"'))  # noqa: S608
              for r in rows}
    return sorted(t for t, n in counts.items() if n >= at_least and t not in SKIP)


async def _copy_expression(conn: asyncpg.Connection, table: str) -> tuple[list[str], list[str], str]:
    """(columns, expressions over `tpl` and `g`, the column that orders the template choice) for one generated
    copy of a template row. The template is the row with the smallest varied id, so that tables referencing each
    other (notification's mails -> orders) pick the same order and their copies match."""
    columns = await conn.fetch(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, pg_get_expr(d.adbin, d.adrelid) AS dflt, "
        "a.attidentity <> '' AS identity, a.attgenerated <> '' AS generated FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = to_regclass($1::text) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum", table)
    types = {c["attname"]: c["type"] for c in columns}
    indexes = await conn.fetch(
        "SELECT array_agg(a.attname ORDER BY k.n) AS names FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) "
        "WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = to_regclass($1::text) AND i.indisunique GROUP BY i.indexrelid", table)
    varied = [_varied(list(r["names"]), types) for r in indexes]
    unique = set(varied)
    names, expressions = [], []
    for c in columns:
        name, kind = c["attname"], c["type"]
        if c["generated"] or c["identity"] or (c["dflt"] or "").startswith("nextval("):
            continue
        quoted = f'"{name}"'
        if name not in unique:
            expression = f"tpl.{quoted}"
        elif kind == "uuid":
            expression = "gen_random_uuid()"
        elif kind in ("integer", "bigint", "smallint"):
            expression = f"tpl.{quoted} + g"
        elif kind.startswith("timestamp"):
            expression = f"tpl.{quoted} - g * interval '1 second'"
        else:  # text: digits stay digits of the same length (payment numbers), the rest gets a suffix
            expression = (f"CASE WHEN tpl.{quoted} ~ '^[0-9]{{4,}}$' THEN '19' || lpad(g::text, "
                          f"length(tpl.{quoted}) - 2, '0') ELSE tpl.{quoted} || '-past-' || g END")
        names.append(quoted)
        expressions.append(f"CASE WHEN tpl.{quoted} IS NULL THEN NULL ELSE {expression} END" if name in unique
                           else expression)
    order = "order_id" if "order_id" in unique else next((v for v in varied if types.get(v) != "uuid"),
                                                          names[0].strip('"'))
    return names, expressions, order


def _varied(index: list[str], types: dict[str, str]) -> str:
    """The one column of a unique index the copies vary: an id of the row itself (a uuid, or a text `..._id` that
    is not the shop's), else the index's last column; shop, consumer and kind stay as in real rows."""
    for name in index:
        if types.get(name) == "uuid":
            return name
    own = [n for n in index if n.endswith("_id") and n not in ("shop_id", "member_id", "subscription_id")]
    return own[-1] if own else index[-1]


async def fill(databases: dict[str, str], *, copies: int, at_least: int) -> None:
    """`copies` generated rows in every growing table of every service database, then ANALYZE. A table whose
    copies reference rows not generated yet (a foreign key) is tried again after the others."""
    for service, url in databases.items():
        conn = await asyncpg.connect(url)
        try:
            pending = await growing_tables(conn, at_least)
            for attempt in (1, 2):
                later = []
                for table in pending:
                    started = time.monotonic()
                    names, expressions, order = await _copy_expression(conn, table)
                    sql = (f'INSERT INTO "{table}" ({", ".join(names)}) SELECT {", ".join(expressions)} '  # noqa: S608
                           f'FROM (SELECT * FROM "{table}" ORDER BY "{order}" LIMIT 1) AS tpl, '
                           f"generate_series(1, $1) AS g")
                    try:
                        await conn.execute(sql, copies)
                        print(f"  {service}.{table}: +{copies} rows in {time.monotonic() - started:.0f} s", flush=True)
                    except asyncpg.ForeignKeyViolationError as exc:
                        if attempt == 1:
                            later.append(table)
                        else:
                            print(f"  {service}.{table}: not filled ({type(exc).__name__}: {exc})", flush=True)
                    except asyncpg.PostgresError as exc:
                        print(f"  {service}.{table}: not filled ({type(exc).__name__}: {exc})", flush=True)
                pending = later
            await conn.execute("ANALYZE")
        finally:
            await conn.close()


async def scans(databases: dict[str, str]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(service, table) -> (sequential scans, index scans, live rows) so far."""
    found = {}
    for service, url in databases.items():
        conn = await asyncpg.connect(url)
        try:
            for r in await conn.fetch("SELECT relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan, n_live_tup "
                                      "FROM pg_stat_user_tables"):
                found[(service, r["relname"])] = (int(r["seq_scan"]), int(r["idx_scan"]), int(r["n_live_tup"]))
        finally:
            await conn.close()
    return found


def report_scans(before: dict[tuple[str, str], tuple[int, int, int]],
                 after: dict[tuple[str, str], tuple[int, int, int]], *, big: int = 10_000) -> str:
    """Scans during the round of every table with more than `big` rows: a sequential scan there is a finding."""
    parts = []
    for key, (seq, idx, rows) in sorted(after.items()):
        old = before.get(key, (0, 0, 0))
        if rows >= big and (seq - old[0] or idx - old[1]):
            flag = "  <-- SEQUENTIAL SCANS" if seq - old[0] else ""
            parts.append(f"    {key[0]}.{key[1]} ({rows} rows): {seq - old[0]} sequential, {idx - old[1]} index "
                         f"scans{flag}")
    return "  scans of big tables during the round:\n" + ("\n".join(parts) or "    none")


async def explain(databases: dict[str, str]) -> str:
    lines = []
    for service, queries in EXPLAINED.items():
        conn = await asyncpg.connect(databases[service])
        try:
            for table, sql, keys in queries:
                row = await conn.fetchrow(f'SELECT {", ".join(keys)} FROM "{table}" ORDER BY random() LIMIT 1')  # noqa: S608
                if row is None:
                    continue
                plan = await conn.fetch(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}", *row.values())
                lines.append(f"  {service}: {sql}\n" + "\n".join(f"      {r[0]}" for r in plan))
        finally:
            await conn.close()
    return "\n".join(lines)
