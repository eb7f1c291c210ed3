"""A warm standby for a Python program run as `python -m MODULE ARGS...` (issue 17: a restarted service healthy in
about a second): it imports what the program will import (most of a service's start is Python importing FastAPI,
pydantic, aiokafka and the service's own modules), then waits; one line on stdin starts the program in this same
interpreter, as `python -m MODULE ARGS...` would. EOF on stdin (the supervisor went away) ends it.

    python -m deploy.local.standby MODULE [ARGS...]
"""

from __future__ import annotations

import importlib
import importlib.util
import runpy
import sys


def preload(module: str) -> None:
    """The program's own imports: `MODULE.app` when there is one (a service's composition root), else MODULE."""
    target = f"{module}.app" if importlib.util.find_spec(f"{module}.app") is not None else module
    importlib.import_module(target)
    importlib.import_module("uvicorn")


def main() -> None:
    module, args = sys.argv[1], sys.argv[2:]
    preload(module)
    print(f"standby: {module} imported, waiting", file=sys.stderr, flush=True)  # bench.restart_bench waits for it
    if not sys.stdin.readline():
        return
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
