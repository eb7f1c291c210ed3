"""The containers backend leaves no container behind: after a failing session, after SIGTERM or Ctrl-C, and
after SIGKILL (then the next session's start removes them). Each case runs a small pytest session
(child_session.py) with TEST_BACKEND=containers in a subprocess and looks at the engine afterwards.

Run by `make test-containers` and CI's `make test-containers-short`; skipped on the local servers (`make test`),
where starting containers would only slow the run down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.testbed import LABEL, remove_labelled

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("child_session.py")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(os.environ.get("TEST_BACKEND") != "containers",
                       reason="the containers backend's own checks: make test-containers(-short)"),
]


def labelled(testbed) -> dict[str, str]:
    """Every container carrying the harness's label, by name: its owner session."""
    import docker

    client = docker.from_env()
    try:
        return {c.name: c.labels[LABEL] for c in client.containers.list(all=True, filters={"label": LABEL})}
    finally:
        client.close()


def start_child(tmp_path: Path, *, hold_s: float = 0) -> tuple[subprocess.Popen, Path]:
    report = tmp_path / "report"
    env = {**os.environ, "TEST_BACKEND": "containers", "CHILD_REPORT": str(report), "CHILD_HOLD_S": str(hold_s)}
    env.pop("DOCKER_HOST", None)  # the child finds (or starts) its engine itself, as any session does
    child = subprocess.Popen([sys.executable, "-m", "pytest", str(CHILD), "-q", "-p", "no:cacheprovider"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True, preexec_fn=_default_sigint)
    return child, report


def _default_sigint() -> None:
    """Ctrl-C as a user's terminal delivers it: a session started from a background job of a shell without job
    control (`cmd &`, as CI runners may be) inherits SIGINT ignored, and Python then never turns it into
    KeyboardInterrupt, so the SIGINT case would wait out the child's whole hold."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_report(child: subprocess.Popen, report: Path, timeout: float = 240) -> list[str]:
    deadline = time.monotonic() + timeout
    while not (report.exists() and report.read_text().endswith("\n")):
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"the child session never reached its test:\n{child.communicate()[0][-3000:]}")
        time.sleep(0.2)
    return report.read_text().splitlines()


def finish(child: subprocess.Popen, timeout: float = 120) -> str:
    try:
        return child.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        child.kill()
        raise


def test_a_failing_session_ran_on_a_container_and_removed_it(testbed, tmp_path):
    child, report = start_child(tmp_path)
    output = finish(child, timeout=300)
    assert child.returncode == 1, output[-3000:]
    assert "this session fails on purpose" in output
    child_owner, url, version, names = [*report.read_text().splitlines(), ""][:4]
    assert version.startswith("15."), version  # Debian's PostgreSQL 15 in the image, not this machine's server
    assert ":5432/" not in url
    assert names.split(), "the child saw no container of its own"
    assert [name for name, who in labelled(testbed).items() if who == child_owner] == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_session_removes_its_containers(testbed, tmp_path, signum):
    child, report = start_child(tmp_path, hold_s=120)
    child_owner, *_, names = wait_for_report(child, report)
    assert set(names.split()) <= set(labelled(testbed))
    os.kill(child.pid, signum)
    output = finish(child)
    assert child.returncode != 0
    assert [name for name, who in labelled(testbed).items() if who == child_owner] == [], output[-3000:]


def test_a_killed_sessions_containers_are_removed_by_the_next_session(testbed, tmp_path):
    child, report = start_child(tmp_path, hold_s=120)
    child_owner, *_, names = wait_for_report(child, report)
    os.killpg(child.pid, signal.SIGKILL)  # no teardown at all
    child.wait(30)
    assert set(names.split()) <= set(labelled(testbed))
    removed = remove_labelled(mine=False)  # what a session's start does (Testbed.start)
    assert set(names.split()) <= set(removed)
    assert [name for name, who in labelled(testbed).items() if who == child_owner] == []
