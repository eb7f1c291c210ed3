"""The heavy deploy checks (`make test-deploy`): a deployed system comes up and completes an order.

    python -m deploy.checks.stack compose     # deploy/compose.yaml under podman-compose
    python -m deploy.checks.stack kube        # deploy/k8s/overlays/local under `podman kube play`

Both use the images `make images` built (localhost/payments*:dev) and remove every container, pod, volume,
podman secret, database and topic they made, pass or fail.

compose: secrets from deploy/secret_files.py into deploy/secrets/ (kept if present), the stack under its own
project name with free host ports and PAYMENT_WORKERS=2, then `deploy.checks.order` and the image's HEALTHCHECK
run in the services' containers.

kube: renders the local overlay (a scratch copy with generated secrets and config), hands its Secrets to podman's
secret store (podman 4.3 reads a Secret from there as a JSON map of base64 values), runs the migration Job's pod
template as a Pod and waits for it to succeed, then plays the ConfigMap and Deployments and runs the order check.
Kafka is KAFKA_BOOTSTRAP_SERVERS (topics under a prefix of their own) or a broker started here; PostgreSQL is
DATABASE_URL (default: `make postgres`'s, databases named deploycheck_kube_*). Prints the wall time of each step.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from delivery.settings import KafkaSettings
from deploy.checks.manifests import K8S, render
from deploy.local.kafka import LocalKafka, free_port
from deploy.secret_files import read_env
from deploy.secret_files import write as write_secrets

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
TAG = os.environ.get("IMAGE_TAG", "dev")
KUBE_PORTS = {"checkout": 18401, "emulator": 18499, "smtp-sink": 18426}
KUBE_TOPIC_PREFIX = "deploy-check-kube."
KUBE_DATABASE_PREFIX = "deploycheck_kube_"
PLAYED_KINDS = ("ConfigMap", "Deployment")  # and the Job, as a Pod


def step(what: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {what}", flush=True)


def run(command: list[str], *, check: bool = True, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ...: exit {done.returncode}\n{done.stdout[-3000:]}"
                           f"\n{done.stderr[-3000:]}")
    return done.stdout


def order_check(*, checkout: str, emulator: str, sink: str, admin_token: str) -> bool:
    env = {**os.environ, "CHECKOUT_ADMIN_TOKEN": admin_token}
    done = subprocess.run([sys.executable, "-m", "deploy.checks.order", "--checkout-url", checkout,
                           "--emulator-url", emulator, "--smtp-sink-url", sink], env=env, cwd=ROOT, check=False,
                          timeout=600)
    return done.returncode == 0


# -- compose -----------------------------------------------------------------------------------------------


def check_compose() -> bool:
    started = time.monotonic()
    project = f"payments-check-{uuid.uuid4().hex[:6]}"
    ports = {name: free_port() for name in ("CHECKOUT_PORT", "PAYMENT_PORT", "SUBSCRIPTION_PORT",
                                            "NOTIFICATION_PORT", "EMULATOR_PORT", "SMTP_SINK_HTTP_PORT")}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "IMAGE": f"localhost/payments:{TAG}",
           "PAYMENT_WORKERS": "2",
           "KAFKA_IMAGE": f"localhost/payments-kafka:{TAG}", "POSTGRES_IMAGE": f"localhost/payments-postgres:{TAG}"}
    secrets_dir = COMPOSE.parent / "secrets"
    write_secrets(secrets_dir)
    tool = Path(sys.executable).parent / "podman-compose"  # the dev dependency, beside this interpreter
    compose = [str(tool) if tool.exists() else "podman-compose", "-p", project, "-f", str(COMPOSE)]
    ok = False
    try:
        # In the order depends_on gives, one `up --no-deps` per stage: podman 4.3 cannot start a container whose
        # dependency has dependencies of its own ("not found in input list"), which plain `up` runs into.
        run([*compose, "up", "-d", "--no-deps", "postgres", "kafka", "emulator", "smtp-sink"], env=env)
        run([*compose, "up", "-d", "--no-deps", "migrate"], env=env)
        code = run(["podman", "wait", f"{project}_migrate_1"], timeout=400).strip()
        step(f"compose project {project}: servers up, migrate exited {code}", started)
        if code != "0":
            return False
        run([*compose, "up", "-d", "--no-deps"], env=env)
        workers = run(["podman", "ps", "--filter", f"label=io.podman.compose.project={project}",
                       "--filter", "label=com.docker.compose.service=payment-worker", "--format", "{{.Names}}"])
        step(f"compose: the services are up, payment workers: {' '.join(workers.split())}", started)
        ok = order_check(checkout=f"http://127.0.0.1:{ports['CHECKOUT_PORT']}",
                         emulator=f"http://127.0.0.1:{ports['EMULATOR_PORT']}",
                         sink=f"http://127.0.0.1:{ports['SMTP_SINK_HTTP_PORT']}",
                         admin_token=read_env(secrets_dir / "checkout.env")["CHECKOUT_ADMIN_TOKEN"])
        step(f"order check {'passed' if ok else 'FAILED'}", started)
        ok = ok and image_healthcheck_passes(project)
        step(f"HEALTHCHECK of the services' containers {'healthy' if ok else 'FAILED'}", started)
    finally:
        if not ok:
            print(run(["podman", "ps", "-a", "--filter", f"label=io.podman.compose.project={project}",
                      "--format", "{{.Names}} {{.Status}}"], check=False))
            for name in ("migrate", "checkout", "payment-api", "payment-worker"):
                print(f"--- logs {name}\n" + run(["podman", "logs", "--tail", "30",
                                                  f"{project}_{name}_1"], check=False))
        run([*compose, "down", "-v", "-t", "20"], env=env, check=False)
        step("compose stack removed (containers, network, volumes)", started)
    return ok


def image_healthcheck_passes(project: str) -> bool:
    """`podman healthcheck run` executes the image's HEALTHCHECK in the container (no systemd timers here)."""
    names = [f"{project}_{name}_1" for name in ("checkout", "payment-api", "payment-worker", "notification")]
    results = {name: subprocess.run(["podman", "healthcheck", "run", name], capture_output=True, text=True,
                                    check=False) for name in names}
    for name, done in results.items():
        print(f"healthcheck {name}: exit {done.returncode} {(done.stdout + done.stderr).strip()[-300:]}", flush=True)
    return all(done.returncode == 0 for done in results.values())


# -- kube play ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def kafka_for_kube() -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    broker = LocalKafka()
    try:
        yield broker.start()
    finally:
        broker.stop()
        shutil.rmtree(broker.work, ignore_errors=True)


def rendered_overlay(scratch: Path, *, kafka: str, database_url: str) -> list[dict[str, Any]]:
    shutil.copytree(K8S, scratch / "k8s", ignore=shutil.ignore_patterns("generated"))
    overlay = scratch / "k8s" / "overlays" / "local"
    write_secrets(overlay / "generated", database_url=database_url, database_prefix=KUBE_DATABASE_PREFIX)
    (overlay / "generated" / "config.env").write_text(
        f"KAFKA_BOOTSTRAP_SERVERS={kafka}\nKAFKA_TOPIC_PREFIX={KUBE_TOPIC_PREFIX}\n")
    return render(overlay)


def job_as_pod(job: dict[str, Any]) -> dict[str, Any]:
    """`podman kube play` runs no Job: its pod template, as a Pod that runs once."""
    template = job["spec"]["template"]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": job["metadata"]["name"], "labels": template["metadata"].get("labels", {})},
            "spec": {**template["spec"], "restartPolicy": "Never"}}


def without_ports(deployment: dict[str, Any]) -> dict[str, Any]:
    """Podman 4.3 refuses `containerPort` beside `hostNetwork` ("PortMappings can only be used with Bridge"),
    which Kubernetes allows: drop the port list, after turning the probes' port names into numbers."""
    deployment = json.loads(json.dumps(deployment))
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        numbers = {port.get("name"): port["containerPort"] for port in container.pop("ports", [])}
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            action = container.get(probe, {}).get("httpGet")
            if action and isinstance(action["port"], str):
                action["port"] = numbers[action["port"]]
    return deployment


def store_secrets(secrets: list[dict[str, Any]]) -> list[str]:
    names = []
    for secret in secrets:
        data = dict(secret.get("data", {}))
        data.update({k: base64.b64encode(v.encode()).decode() for k, v in secret.get("stringData", {}).items()})
        name = secret["metadata"]["name"]
        subprocess.run(["podman", "secret", "rm", name], capture_output=True, check=False)
        subprocess.run(["podman", "secret", "create", name, "-"], input=json.dumps(data).encode(),
                       capture_output=True, check=True)
        names.append(name)
    return names


def check_kube() -> bool:
    started = time.monotonic()
    busy = [port for port in (18401, 18402, 18403, 18404, 18412, 18425, 18426, 18499) if port_in_use(port)]
    if busy:
        print(f"FAILED: the local overlay's ports are in use: {busy}")
        return False
    database_url = os.environ.get("DATABASE_URL", "postgresql://payments:payments@127.0.0.1:5432/postgres")
    ok, secret_names = False, []
    with kafka_for_kube() as kafka, tempfile.TemporaryDirectory() as scratch:
        step(f"Kafka at {kafka}", started)
        objects = rendered_overlay(Path(scratch), kafka=kafka, database_url=database_url)
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for obj in objects:
            by_kind.setdefault(obj["kind"], []).append(obj)
        admin_token = next(base64.b64decode(s["data"]["CHECKOUT_ADMIN_TOKEN"]).decode()
                           for s in by_kind["Secret"] if "CHECKOUT_ADMIN_TOKEN" in s.get("data", {}))
        migrate = Path(scratch) / "migrate.yaml"
        migrate.write_text(yaml.safe_dump_all([*by_kind["ConfigMap"], *map(job_as_pod, by_kind["Job"])]))
        services = Path(scratch) / "services.yaml"
        services.write_text(yaml.safe_dump_all([*by_kind["ConfigMap"], *map(without_ports, by_kind["Deployment"])]))
        skipped = sorted({obj["kind"] for obj in objects} - {*PLAYED_KINDS, "Secret", "Job"})
        try:
            secret_names = store_secrets(by_kind["Secret"])
            run(["podman", "kube", "play", str(migrate)])
            pod = by_kind["Job"][0]["metadata"]["name"]
            container = f"{pod}-{by_kind['Job'][0]['spec']['template']['spec']['containers'][0]['name']}"
            code = run(["podman", "wait", container], timeout=400).strip()
            print(run(["podman", "logs", container], check=False)[-1500:], flush=True)
            step(f"migration Job (as a Pod) exited {code}", started)
            if code != "0":
                return False
            run(["podman", "kube", "play", str(services)])
            step(f"played {len(by_kind['Deployment'])} Deployments + ConfigMap "
                 f"(validated only, not run by kube play: {', '.join(skipped)})", started)
            ok = order_check(checkout=f"http://127.0.0.1:{KUBE_PORTS['checkout']}",
                             emulator=f"http://127.0.0.1:{KUBE_PORTS['emulator']}",
                             sink=f"http://127.0.0.1:{KUBE_PORTS['smtp-sink']}", admin_token=admin_token)
            step(f"order check {'passed' if ok else 'FAILED'}", started)
            if not ok:
                for deployment in by_kind["Deployment"]:
                    name = deployment["metadata"]["name"]
                    print(f"--- logs {name}\n" + run(["podman", "logs", "--tail", "30", f"{name}-pod-0-{name}"],
                                                      check=False))
        finally:
            run(["podman", "kube", "down", str(services)], check=False)
            run(["podman", "kube", "down", str(migrate)], check=False)
            for name in secret_names:
                run(["podman", "secret", "rm", name], check=False)
            asyncio.run(drop_leftovers(database_url, kafka))
            step("pods, podman secrets, databases and topics removed", started)
    return ok


def port_in_use(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def drop_leftovers(database_url: str, kafka: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    head = database_url.rpartition("/")[0]
    conn = await asyncpg.connect(f"{head}/postgres")
    try:
        for name in ("checkout", "payment", "subscription", "notification"):
            await conn.execute(f'DROP DATABASE IF EXISTS "{KUBE_DATABASE_PREFIX}{name}" WITH (FORCE)')
    finally:
        await conn.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=KafkaSettings(bootstrap_servers=kafka).servers)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(KUBE_TOPIC_PREFIX)]
        if ours:
            await admin.delete_topics(ours)
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(KUBE_TOPIC_PREFIX)]
        if groups:
            with contextlib.suppress(Exception):  # a group still settling is removed by Kafka's retention
                await admin.delete_consumer_groups(groups)
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.checks.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["compose", "kube"])
    args = parser.parse_args(argv)
    started = time.monotonic()
    ok = check_compose() if args.target == "compose" else check_kube()
    print(f"{args.target}: {'OK' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
