"""The invariant checker (design §7, issue 17): reads every service database, the emulator's ledger, the SMTP
sink, every topic and the logs of a finished run, and prints one line per invariant with its counts.

    python -m deploy.invariants [--logs FILE ...] [--secrets FILE] [--json]

`facts.py` holds what was read (plain data), `rules.py` decides (pure: tests plant violations in facts),
`reading.py` reads a running stack, `__main__.py` is the command. Exit status 1 when any invariant is violated.
"""
