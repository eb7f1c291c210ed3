"""`make run PAYMENT_WORKERS=N`: one payment API process and N payment worker processes, each worker with its
own health port; without it, one payment process doing both (as before)."""

from __future__ import annotations

from deploy.local.run import components, local_env


def test_without_payment_workers_one_payment_process_runs_both_roles():
    procs = components(local_env({}))
    assert procs["payment"][0][-2:] == ["-m", "services.payment"]
    assert not [name for name in procs if name.startswith("payment-worker")]


def test_payment_workers_n_runs_an_api_and_n_workers_on_distinct_health_ports():
    procs = components(local_env({"PAYMENT_WORKERS": "3"}))
    assert procs["payment"][0][-3:] == ["-m", "services.payment", "api"]
    workers = {name: procs[name] for name in procs if name.startswith("payment-worker-")}
    assert sorted(workers) == ["payment-worker-1", "payment-worker-2", "payment-worker-3"]
    ports = set()
    for command, health in workers.values():
        assert command[-4:-2] == ["services.payment", "worker"]
        assert health == f"http://127.0.0.1:{command[-1]}/health"
        ports.add(command[-1])
    assert len(ports) == 3
    assert list(procs)[:6] == ["emulator", "smtp-sink", "checkout", "payment", "subscription", "notification"]
