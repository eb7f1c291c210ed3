"""`make monitoring`: check the alert rules and the Grafana dashboard.

    python -m deploy.monitoring.check

- `promtool check rules alerts.yaml` and `promtool test rules alerts.test.yaml` (promtool from Debian's
  `prometheus` package, see `promtool.sh`).
- The dashboard (`grafana/payments.json`) against Grafana's own published types (`@grafana/schema` from npm,
  checked by the TypeScript compiler): the dashboard as a whole, and each panel's options and field config
  against its panel plugin's types (time series, stat). An object literal with a field the schema does not
  know, or a value of the wrong type, fails. No Grafana server can be installed here from the registries this
  project uses (it is not packaged by Debian, PyPI or npm), hence the schema.
- Layout and queries: unique panel ids, panels inside the 24-column grid without overlap, every query a
  PromQL `expr` on the `${datasource}` variable. That every metric a query or rule names is served by the
  services is a test (`tests/integration/services/test_monitoring_metrics.py`), since it needs them running.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DASHBOARD = HERE / "grafana" / "payments.json"
NODE_DIR = ROOT / ".cache" / "grafana-schema"
NODE_PACKAGES = ("@grafana/schema@13.2.3", "typescript@5.9.3")
PANEL_TYPES = {  # panel type -> (module of its plugin's types under @grafana/schema, has field config)
    "timeseries": ("timeseries", True),
    "stat": ("stat", False),
}
LOOSE = """// String enums accept their values, as in JSON: `${E}` is the union of E's string values.
type Loose<T> = T extends string ? `${T}` : T extends Array<infer U> ? Array<Loose<U>>
  : T extends object ? { [K in keyof T]: Loose<T[K]> } : T;
"""


RULES = HERE / "alerts.yaml"
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right",
             "inf", "nan", "atan2"}
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.$])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()")


def queries() -> dict[str, str]:
    """Every PromQL expression of the alert rules and the dashboard: where -> expr."""
    found: dict[str, str] = {}
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            found[f"alert {rule['alert']}"] = rule["expr"]
    for panel in panels(json.loads(DASHBOARD.read_text())):
        for target in panel.get("targets", []):
            found[f"panel {panel['title']!r} {target['refId']}"] = target["expr"]
    return found


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not its functions, labels, keywords or durations)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', "", expr)  # strings
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", bare)  # label matchers, ranges and subqueries
    bare = _GROUPING.sub("", bare)
    return {name for name in _IDENTIFIER.findall(bare) if name not in _KEYWORDS}


def promtool(*args: str) -> None:
    subprocess.run([str(HERE / "promtool.sh"), *args], check=True, cwd=HERE)


def dashboard_typescript(dashboard: dict[str, Any]) -> str:
    """A TypeScript module assigning the dashboard and each panel's options to their published types."""
    lines = ["import type { Dashboard } from '@grafana/schema';"]
    for name, (module, _) in PANEL_TYPES.items():
        types = f"@grafana/schema/dist/types/raw/composable/{module}/panelcfg/x/types.gen"
        lines.append(f"import type {{ Options as {name}_Options, FieldConfig as {name}_FieldConfig }} "
                     f"from '{types}';" if PANEL_TYPES[name][1] else
                     f"import type {{ Options as {name}_Options }} from '{types}';")
    lines += [LOOSE, f"export const dashboard: Loose<Dashboard> = {json.dumps(dashboard, ensure_ascii=False)};"]
    for panel in panels(dashboard):
        kind, number = panel["type"], panel["id"]
        lines.append(f"export const options_{number}: Loose<{kind}_Options> = {json.dumps(panel['options'])};")
        if PANEL_TYPES[kind][1]:
            custom = panel["fieldConfig"]["defaults"].get("custom", {})
            lines.append(f"export const custom_{number}: Loose<{kind}_FieldConfig> = {json.dumps(custom)};")
    return "\n".join(lines) + "\n"


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel that is not a row (rows' nested panels included)."""
    found: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        found.extend(panel["panels"] if panel["type"] == "row" else [panel])
    return found


def layout_problems(dashboard: dict[str, Any]) -> list[str]:
    problems = []
    ids = [p["id"] for p in dashboard["panels"]]
    if len(ids) != len(set(ids)):
        problems.append("panel ids repeat")
    taken: dict[tuple[int, int], int] = {}
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        if g["x"] < 0 or g["x"] + g["w"] > 24:
            problems.append(f"panel {panel['id']} leaves the 24-column grid")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in taken:
                    problems.append(f"panel {panel['id']} overlaps panel {taken[(x, y)]}")
                    break
                taken[(x, y)] = panel["id"]
    for panel in panels(dashboard):
        if panel["type"] not in PANEL_TYPES:
            problems.append(f"panel {panel['id']}: type {panel['type']} has no schema check here")
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"panel {panel['id']}: not on the ${{datasource}} variable")
        for target in panel.get("targets", []):
            if not target.get("expr") or target.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"panel {panel['id']} query {target.get('refId')}: no expr or another datasource")
    return problems


def ensure_node_packages() -> Path:
    tsc = NODE_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    if not tsc.exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--no-save",
                        *NODE_PACKAGES], check=True, stdout=subprocess.DEVNULL)
    return tsc


def check_dashboard(path: Path = DASHBOARD) -> int:
    dashboard = json.loads(path.read_text())
    problems = layout_problems(dashboard)
    tsc = ensure_node_packages()
    with tempfile.TemporaryDirectory(dir=NODE_DIR) as scratch:  # inside NODE_DIR: its node_modules resolve
        source = Path(scratch) / f"{path.stem}.ts"
        source.write_text(dashboard_typescript(dashboard))
        compiled = subprocess.run(["node", str(tsc), "--noEmit", "--strict", "--skipLibCheck", "--target", "es2020",
                                   "--module", "commonjs", "--moduleResolution", "node10", source.name],
                                  cwd=scratch, capture_output=True, text=True, check=False)
    if compiled.returncode != 0:
        problems.append(f"not a Grafana dashboard by @grafana/schema's types:\n{compiled.stdout}{compiled.stderr}")
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for problem in problems:
        print(f"{name}: {problem}")
    if not problems:
        print(f"{name}: {len(panels(dashboard))} panels, valid ({NODE_PACKAGES[0]} types, layout)")
    return 1 if problems else 0


def main() -> int:
    promtool("check", "rules", "alerts.yaml")
    promtool("test", "rules", "alerts.test.yaml")
    return check_dashboard()


if __name__ == "__main__":
    sys.exit(main())
