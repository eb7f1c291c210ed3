"""The OpenAPI documents of the four services, written to `OUTDIR/<service>.json` (issue 14).

`python -m deploy.openapi [OUTDIR]` builds each service's app without connecting anything (design §11 rule 4)
and writes the document it serves at `/openapi.json`, with the one error shape (`ProblemDetails`, from
`delivery.problems`) on every operation. The running services serve the same documents; these copies are for
readers and for tools (schemathesis, client generators) that want a file. Keys are sorted so two generations
differ only where the APIs do. OUTDIR defaults to `docs/openapi`.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

SERVICES = ("checkout", "payment", "subscription", "notification")
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "docs" / "openapi"


def document(name: str) -> dict[str, object]:
    """The OpenAPI document service `name` serves, built with its default settings (nothing connects)."""
    settings = getattr(importlib.import_module(f"services.{name}.settings"), f"{name.capitalize()}Settings")()
    app = importlib.import_module(f"services.{name}.app").create_app(settings)
    return app.openapi()


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:] or [str(DEFAULT_DIR)])[0])
    out.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        path = out / f"{name}.json"
        path.write_text(json.dumps(document(name), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
