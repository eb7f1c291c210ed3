"""The test dependencies as container images: Kafka (KRaft) and PostgreSQL 15, for the harness's containers backend.

    python -m deploy.containers.images build    # build what changed (seconds when nothing did); prints the names
    python -m deploy.containers.images names    # the images the harness will start, without building

Built with podman from `localhost/debian-base:bookworm` (deploy/containers/podman-setup.sh, no registry needed):
Kafka from the same Maven Central jars `make run` uses (.cache/kafka/libs), PostgreSQL from Debian's package.
Each image is tagged with the digest of its inputs (Containerfile, entrypoint, the jar set, the base image), so a
build runs only when one of them changed, and an unchanged tree costs one `podman image exists` per image.

`TEST_IMAGES=public` uses the public images instead (apache/kafka at the jars' version, postgres:15) and builds
nothing: for machines that can pull, with Docker or podman; it is the default where podman is not installed.
`TEST_KAFKA_IMAGE` / `TEST_POSTGRES_IMAGE` name any other image started the same way (KAFKA_* variables are broker
properties; POSTGRES_USER / POSTGRES_PASSWORD).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from deploy.local.kafka import LIBS, POM, build_libs
from deploy.local.kafka_config import LOG4J2_PROPERTIES

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "test-images"
SETUP = HERE / "podman-setup.sh"
BASE = "localhost/debian-base:bookworm"
REPOSITORY = "localhost/payments-test-{name}"
NAMES = ("kafka", "postgres")


def kafka_version() -> str:
    found = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if found is None:
        raise RuntimeError(f"no <kafka.version> in {POM}")
    return found.group(1)


def public_images() -> dict[str, str]:
    return {"kafka": f"apache/kafka:{kafka_version()}", "postgres": "postgres:15"}


def chosen(env: Mapping[str, str] | None = None, *, podman: bool | None = None) -> str:
    """`local` (built here with podman) or `public` (pulled), from TEST_IMAGES; by default local when the engine
    is podman (`podman`; unknown: podman is installed), since Docker does not see podman's images."""
    env = os.environ if env is None else env
    podman = bool(shutil.which("podman")) if podman is None else podman
    choice = env.get("TEST_IMAGES") or ("local" if podman else "public")
    if choice not in ("local", "public"):
        raise ValueError(f"TEST_IMAGES={choice!r}: expected 'local' or 'public'")
    return choice


def explicit(name: str, env: Mapping[str, str]) -> str | None:
    return env.get(f"TEST_{name.upper()}_IMAGE") or None


def names(env: Mapping[str, str] | None = None, *, podman: bool | None = None) -> dict[str, str]:
    """The images the harness starts, without building them (a local image's tag is its inputs' digest)."""
    env = os.environ if env is None else env
    public = chosen(env, podman=podman) == "public"
    return {name: explicit(name, env) or (public_images()[name] if public else tag(name)) for name in NAMES}


def configure_podman() -> None:
    """This machine kind's podman settings (containers.conf: runc, no raised rlimits), unless the caller has its
    own; applied only where runc is installed, since the file selects it."""
    if shutil.which("runc"):
        os.environ.setdefault("CONTAINERS_CONF", str(HERE / "containers.conf"))


def ensure(env: Mapping[str, str] | None = None, *, podman: bool | None = None) -> dict[str, str]:
    """The images the harness starts, local ones built first if their inputs changed."""
    env = os.environ if env is None else env
    if chosen(env, podman=podman) == "public":
        return names(env, podman=podman)
    configure_podman()
    found = {}
    for name in NAMES:
        found[name] = explicit(name, env) or build(name)
    return found


def _files(name: str) -> dict[str, bytes]:
    """The build context's small files; Kafka's jars are added apart (hardlinked, not read)."""
    files = {path.name: path.read_bytes() for path in sorted((SOURCES / name).iterdir()) if path.is_file()}
    if name == "kafka":
        files["log4j2.properties"] = LOG4J2_PROPERTIES.format(level="WARN").encode()
    return files


def _jar_listing() -> bytes:
    """The jar set: the pom digest that produced it, plus each jar's name and size (hashing 45 MB each run would
    cost more than the check is worth)."""
    build_libs()
    jars = sorted(LIBS.glob("*.jar"))
    return b"\n".join([(LIBS / ".pom-sha256").read_bytes(), *(f"{j.name} {j.stat().st_size}".encode() for j in jars)])


def base_id(base: str = BASE) -> str:
    result = subprocess.run(["podman", "image", "inspect", "--format", "{{.Id}}", base],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        subprocess.run([str(SETUP)], check=True, stdout=subprocess.DEVNULL)
        result = subprocess.run(["podman", "image", "inspect", "--format", "{{.Id}}", base],
                                capture_output=True, text=True, check=True)
    return result.stdout.strip()


def tag(name: str, base: str = BASE) -> str:
    digest = hashlib.sha256(base_id(base).encode())
    for file_name, content in _files(name).items():
        digest.update(file_name.encode() + b"\0" + content + b"\0")
    if name == "kafka":
        digest.update(_jar_listing())
    return f"{REPOSITORY.format(name=name)}:{digest.hexdigest()[:12]}"


def build(name: str, base: str = BASE) -> str:
    """The image's tag, built first unless podman already has it; older builds of it are removed."""
    wanted = tag(name, base)
    if subprocess.run(["podman", "image", "exists", wanted], check=False).returncode == 0:
        return wanted
    with tempfile.TemporaryDirectory(prefix=f"test-image-{name}-") as context:
        for file_name, content in _files(name).items():
            target = Path(context) / file_name
            target.write_bytes(content)
            target.chmod(0o755 if file_name.endswith(".sh") else 0o644)
        if name == "kafka":
            shutil.copytree(LIBS, Path(context) / "libs", copy_function=_link_or_copy,
                            ignore=shutil.ignore_patterns(".*"))
        print(f"building {wanted}", file=sys.stderr)
        subprocess.run(["podman", "build", "--quiet", "--layers", "--build-arg", f"BASE={base}", "-t", wanted,
                        "-f", str(Path(context) / "Containerfile"), context], check=True, stdout=subprocess.DEVNULL)
    _remove_older(name, keep=wanted)
    return wanted


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _remove_older(name: str, keep: str) -> None:
    listed = subprocess.run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}",
                             REPOSITORY.format(name=name)], capture_output=True, text=True, check=False)
    for image in listed.stdout.split():
        if image != keep:  # an image a running container still uses stays; removed at a later build
            subprocess.run(["podman", "rmi", image], capture_output=True, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.containers.images", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "names"])
    args = parser.parse_args(argv)
    configure_podman()
    images = ensure() if args.command == "build" else names()
    for name, image in images.items():
        print(f"{name} {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
