"""The fast deploy checks (`make lint`): the Kubernetes manifests and the compose file are valid, in seconds.

    python -m deploy.checks.manifests [--print OVERLAY]

Kubernetes: renders `deploy/k8s/base` and every overlay with kustomize (the overlays in a scratch copy, with
throw-away generated secrets), then validates every object against its schema: core objects strictly (unknown
fields are errors) against the Kubernetes OpenAPI schemas that `kubernetes-validate` ships, the KEDA
`ScaledObject` against the CRD's openAPIV3Schema vendored in deploy/schemas/ (made strict the same way). Then
the rules schemas cannot say: each Deployment probes /health and sets requests and limits, has a
PodDisruptionBudget; the ScaledObject caps the workers at the partition count of each topic it watches
(contracts/topics.py); no Secret is rendered from the base and no secret-looking key sits in a ConfigMap.
Compose: deploy/compose.yaml against the Compose Specification's JSON schema (deploy/schemas/), and each
service's image, env files and `python -m` module exist. Exit status 1 with one line per finding.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from contracts.topics import ALL_TOPICS
from deploy.secret_files import write as write_secrets

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "compose.yaml"
SCHEMAS = ROOT / "deploy" / "schemas"
KUBERNETES_VERSION = "1.33.0"
SECRET_WORDS = ("TOKEN", "PASSWORD", "SECRET", "_KEY", "DATABASE_URL")


def kustomize_binary() -> str:
    installed = sorted((ROOT / ".cache" / "kustomize").glob("*/kustomize"))  # `make kustomize`, without make
    for candidate in (os.environ.get("KUSTOMIZE"), *map(str, installed[-1:]), shutil.which("kustomize")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("kustomize not found: `make kustomize` installs it (the Makefile exports KUSTOMIZE)")


def render(directory: Path) -> list[dict[str, Any]]:
    out = subprocess.run([kustomize_binary(), "build", str(directory)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise ValueError(f"kustomize build {directory}: {out.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def prepare_overlay(scratch: Path, overlay: str) -> Path:
    """A copy of deploy/k8s with throw-away generated files for `overlay` (what deploy time writes)."""
    shutil.copytree(K8S, scratch / "k8s", dirs_exist_ok=True, ignore=shutil.ignore_patterns("generated"))
    generated = scratch / "k8s" / "overlays" / overlay / "generated"
    write_secrets(generated, database_url="postgresql://payments:x@127.0.0.1:5432/postgres", database_prefix="check_")
    (generated / "config.env").write_text("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092\nKAFKA_TOPIC_PREFIX=check.\n")
    return scratch / "k8s" / "overlays" / overlay


def strict(schema: Any) -> Any:
    """An OpenAPI v3 schema of a CRD with unknown fields refused, as the API server's strict field validation
    does (objects with `properties` and no `additionalProperties` or x-kubernetes-preserve-unknown-fields)."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
            schema["properties"].setdefault("apiVersion", {"type": "string"})
            schema["properties"].setdefault("kind", {"type": "string"})
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    if (api_version, kind) == ("keda.sh/v1alpha1", "ScaledObject"):
        return strict(json.loads((SCHEMAS / "keda.sh_scaledobject_v1alpha1.json").read_text()))
    return None


def schema_findings(obj: dict[str, Any]) -> Iterator[str]:
    name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    schema = crd_schema(obj.get("apiVersion", ""), obj.get("kind", ""))
    if schema is not None:
        for error in jsonschema.Draft7Validator(schema).iter_errors(obj):
            yield f"{name}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
        return
    try:
        kubernetes_validate.validate(copy.deepcopy(obj), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        yield f"{name}: {'/'.join(map(str, exc.path))}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError:
        yield f"{name}: no schema known for {obj.get('apiVersion')} {obj.get('kind')}"


def rule_findings(objects: list[dict[str, Any]], *, base: bool) -> Iterator[str]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    budgets = [pdb["spec"]["selector"]["matchLabels"] for pdb in by_kind.get("PodDisruptionBudget", [])]
    for deployment in by_kind.get("Deployment", []):
        name = deployment["metadata"]["name"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if not any(all(labels.get(k) == v for k, v in selector.items()) for selector in budgets) and base:
            yield f"Deployment/{name}: no PodDisruptionBudget selects it"
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            if not base and container["image"] == "payments":
                yield f"Deployment/{name}: the overlay names no image for `payments` (images: newName, newTag)"
            for probe in ("readinessProbe", "livenessProbe"):
                path = container.get(probe, {}).get("httpGet", {}).get("path")
                if base and path != "/health":
                    yield f"Deployment/{name}: {probe} is not an HTTP GET of /health ({path})"
            resources = container.get("resources", {})
            if not resources.get("requests") or not resources.get("limits"):
                yield f"Deployment/{name}: container {container['name']} lacks resource requests or limits"
    if base:
        for secret in by_kind.get("Secret", []):
            yield f"Secret/{secret['metadata']['name']}: secrets are generated at deploy time, never in the base"
    for config_map in by_kind.get("ConfigMap", []):
        for key in config_map.get("data", {}):
            if any(word in key.upper() for word in SECRET_WORDS):
                yield f"ConfigMap/{config_map['metadata']['name']}: {key} looks secret: put it in a generated Secret"
    yield from scaler_findings(by_kind.get("ScaledObject", []))


def scaler_findings(scalers: list[dict[str, Any]]) -> Iterator[str]:
    partitions = {spec.name: spec.partitions for spec in ALL_TOPICS}
    for scaler in scalers:
        cap = scaler["spec"].get("maxReplicaCount")
        for trigger in scaler["spec"]["triggers"]:
            topic = trigger.get("metadata", {}).get("topic", "")
            logical = next((name for name in partitions if topic == name or topic.endswith("." + name)), None)
            if trigger["type"] != "kafka":
                continue
            if logical is None:
                yield f"ScaledObject/{scaler['metadata']['name']}: trigger topic {topic!r} not in contracts/topics.py"
            elif cap != partitions[logical]:
                yield (f"ScaledObject/{scaler['metadata']['name']}: maxReplicaCount {cap} != {partitions[logical]} "
                       f"partitions of {logical}: workers beyond the partition count get nothing to do")


def check_kubernetes() -> list[str]:
    findings: list[str] = []
    base = render(K8S / "base")
    findings += [f"base: {f}" for obj in base for f in schema_findings(obj)]
    findings += [f"base: {f}" for f in rule_findings(base, base=True)]
    for overlay in sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir()):
        with tempfile.TemporaryDirectory() as scratch:
            objects = render(prepare_overlay(Path(scratch), overlay))
        findings += [f"{overlay}: {f}" for obj in objects for f in schema_findings(obj)]
        findings += [f"{overlay}: {f}" for f in rule_findings(objects, base=False)]
    return findings


def check_compose(path: Path = COMPOSE) -> list[str]:
    compose = yaml.safe_load(path.read_text())
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    findings = [f"compose: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in jsonschema.Draft7Validator(schema).iter_errors(compose)]
    known_env_files = {f"secrets/{name}" for name in ("database.env", "checkout.env", "payment.env",
                                                       "subscription.env", "notification.env")}
    for name, service in compose.get("services", {}).items():
        if "image" not in service:
            findings.append(f"compose: {name}: no image")
        for env_file in service.get("env_file", []):
            if env_file not in known_env_files:
                findings.append(f"compose: {name}: env_file {env_file} is not one deploy/secret_files.py writes")
        command = service.get("command") or []
        if command[:2] == ["python", "-m"]:
            module = ROOT.joinpath(*command[2].split("."))
            if not (module.with_suffix(".py").is_file() or (module / "__main__.py").is_file()):
                findings.append(f"compose: {name}: no module {command[2]}")
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.checks.manifests", description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", metavar="OVERLAY", help="print the rendered overlay (throw-away secrets)")
    args = parser.parse_args(argv)
    if args.print:
        with tempfile.TemporaryDirectory() as scratch:
            print(yaml.safe_dump_all(render(prepare_overlay(Path(scratch), args.print)), sort_keys=False))
        return 0
    findings = check_kubernetes() + check_compose()
    for finding in findings:
        print(finding)
    print(f"deploy manifests: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
