"""Committed JSON Schema snapshots of every event type, and the check that guards them (design §4).

`<type>.json` in this directory is the published schema of one event type's `data`, generated from its
model in *validation* mode (what a consumer accepts), plus `x-event-type` and `x-topic`.
`python -m contracts.schemas check` compares the snapshots with the models: an incompatible change to an
existing type fails, and so does a snapshot that is merely out of date (so the committed files always
describe the code). `write` regenerates them, and refuses to record an incompatible change unless
`--allow-breaking` is given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from contracts.events import Event
from contracts.registry import EVENT_TYPES
from contracts.schemas.compat import Schema, compare

SNAPSHOT_DIR = Path(__file__).resolve().parent
"""Where the committed snapshots live (this package's directory)."""

__all__ = [
    "SNAPSHOT_DIR",
    "CheckResult",
    "check",
    "compare",
    "current_schemas",
    "dumps",
    "event_schema",
    "load_snapshots",
    "write_snapshots",
]


def event_schema(model: type[Event]) -> Schema:
    """The published JSON Schema of one event type's `data`."""
    schema = model.model_json_schema(mode="validation")
    return {**schema, "x-event-type": model.TYPE, "x-topic": model.TOPIC}


def current_schemas() -> dict[str, Schema]:
    """Type name -> schema, for every registered event type."""
    return {type_name: event_schema(model) for type_name, model in EVENT_TYPES.items()}


def dumps(schema: Schema) -> str:
    """The exact text a snapshot file holds (stable, human-readable, Japanese kept as is)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def load_snapshots(directory: Path = SNAPSHOT_DIR) -> dict[str, Schema]:
    """Type name -> schema for every `*.json` snapshot in `directory`."""
    return {path.stem: json.loads(path.read_text("utf-8")) for path in sorted(directory.glob("*.json"))}


def write_snapshots(directory: Path = SNAPSHOT_DIR, schemas: dict[str, Schema] | None = None) -> list[Path]:
    """Write one `<type>.json` per schema (default: the current models); returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for type_name, schema in sorted((schemas or current_schemas()).items()):
        path = directory / f"{type_name}.json"
        path.write_text(dumps(schema), encoding="utf-8")
        written.append(path)
    return written


@dataclass
class CheckResult:
    """Outcome of comparing snapshots with models: breaking changes, and snapshots merely out of date."""

    incompatible: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.incompatible and not self.stale


def check(snapshots: dict[str, Schema], current: dict[str, Schema]) -> CheckResult:
    """Compare committed snapshots with current schemas (both: type name -> schema)."""
    result = CheckResult()
    for type_name, old in sorted(snapshots.items()):
        new = current.get(type_name)
        if new is None:
            result.incompatible.append(f"{type_name}: event type removed (consumers may still receive it)")
            continue
        result.incompatible.extend(f"{type_name}: {problem}" for problem in compare(old, new))
        if dumps(old) != dumps(new):
            result.stale.append(f"{type_name}: snapshot differs from the model")
    for type_name in sorted(current.keys() - snapshots.keys()):
        result.stale.append(f"{type_name}: new event type without a snapshot")
    return result
