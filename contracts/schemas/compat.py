"""Compatibility rule for event schemas (design §4), as a pure function over two JSON Schemas.

An existing event type may only grow: removing, renaming or retyping a field, adding a required field,
making a field required, or changing constraints/enums/nullability breaks a consumer or a producer that
still runs the old contract, so it needs a new type name (`.v2`). Adding an optional field is fine (every
model ignores unknown fields). Nested models are compared through their `$ref`s, so the same rule holds at
every depth. Descriptions, titles, examples and defaults are documentation and are ignored.
"""

from __future__ import annotations

import json
from typing import Any

Schema = dict[str, Any]

_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "$defs"})


def compare(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Incompatibilities of `new_schema` relative to `old_schema` (empty list = compatible)."""
    problems: list[str] = []
    old_topic, new_topic = old_schema.get("x-topic"), new_schema.get("x-topic")
    if old_topic != new_topic:
        problems.append(f"topic changed from {old_topic!r} to {new_topic!r}")
    _Comparer(old_schema, new_schema, problems).node(old_schema, new_schema, path="")
    return problems


class _Comparer:
    """Walks two schemas side by side, each resolving `$ref`s against its own `$defs`."""

    def __init__(self, old_root: Schema, new_root: Schema, problems: list[str]) -> None:
        self.old_defs: Schema = old_root.get("$defs", {})
        self.new_defs: Schema = new_root.get("$defs", {})
        self.problems = problems
        self.active: set[tuple[str, str]] = set()

    def node(self, old: Schema, new: Schema, path: str) -> None:
        """Compare one schema node: an object, an array, a union or a leaf type."""
        refs = (old.get("$ref", ""), new.get("$ref", ""))
        if refs != ("", "") and refs in self.active:
            return  # a recursive model: this pair is already being compared further up
        self.active.add(refs)
        try:
            self.dispatch(_resolve(old, self.old_defs), _resolve(new, self.new_defs), path)
        finally:
            self.active.discard(refs)

    def dispatch(self, old: Schema, new: Schema, path: str) -> None:
        if "properties" in old and "properties" in new:
            self.object(old, new, path)
        elif "items" in old and "items" in new:
            self.leaf(_strip(old, {"items"}), _strip(new, {"items"}), path)
            self.node(old["items"], new["items"], f"{path}[]")
        elif _variants(old) is not None and _variants(new) is not None:
            self.union(old, new, path)
        else:
            self.leaf(old, new, path)

    def object(self, old: Schema, new: Schema, path: str) -> None:
        old_props, new_props = old["properties"], new["properties"]
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for name in old_props:
            if name not in new_props:
                self.problems.append(f"field {_join(path, name)!r} removed (or renamed)")
        for name in new_props:
            field = _join(path, name)
            if name not in old_props:
                if name in new_required:
                    self.problems.append(f"new required field {field!r}")
            elif name in new_required and name not in old_required:
                self.problems.append(f"field {field!r} became required")
        for name in old_props.keys() & new_props.keys():
            self.node(old_props[name], new_props[name], _join(path, name))
        self.leaf(_strip(old, {"properties", "required"}), _strip(new, {"properties", "required"}), path)

    def union(self, old: Schema, new: Schema, path: str) -> None:
        """Unions must keep their members; `X | None` is compared member-wise so `X` may still grow."""
        old_variants, new_variants = _variants(old) or [], _variants(new) or []
        old_null, new_null = _split_null(old_variants), _split_null(new_variants)
        if old_null[0] != new_null[0]:
            self.problems.append(f"field {path or '<root>'!r} nullability changed")
        if len(old_null[1]) == 1 and len(new_null[1]) == 1:
            self.node(old_null[1][0], new_null[1][0], path)
            return
        old_keys = sorted(_canonical(_resolve(v, self.old_defs)) for v in old_null[1])
        new_keys = sorted(_canonical(_resolve(v, self.new_defs)) for v in new_null[1])
        if old_keys != new_keys:
            self.problems.append(f"field {path or '<root>'!r} union members changed")

    def leaf(self, old: Schema, new: Schema, path: str) -> None:
        """Everything but documentation must be equal: type, format, enum/const, constraints, nullability."""
        old_key, new_key = _canonical(old), _canonical(new)
        if old_key != new_key:
            self.problems.append(
                f"field {path or '<root>'!r} type changed from {_short(old_key)} to {_short(new_key)}"
            )


def _resolve(schema: Schema, defs: Schema) -> Schema:
    """Follow a `$ref` (pydantic only emits local `#/$defs/Name` refs), merging sibling keywords."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    target = defs[ref.rsplit("/", 1)[-1]]
    return {**target, **_strip(schema, {"$ref"})}


def _variants(schema: Schema) -> list[Schema] | None:
    found = schema.get("anyOf", schema.get("oneOf"))
    return list(found) if found is not None else None


def _split_null(variants: list[Schema]) -> tuple[bool, list[Schema]]:
    others = [v for v in variants if v.get("type") != "null"]
    return len(others) != len(variants), others


def _strip(schema: Schema, keys: set[str]) -> Schema:
    return {k: v for k, v in schema.items() if k not in keys}


def _canonical(schema: Schema) -> str:
    """A stable text form of a leaf schema without documentation keywords (for equality and messages)."""
    kept = {k: v for k, v in schema.items() if k not in _ANNOTATIONS and not k.startswith("x-")}
    if isinstance(kept.get("enum"), list):
        kept["enum"] = sorted(kept["enum"], key=json.dumps)
    return json.dumps(kept, sort_keys=True, ensure_ascii=False)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
