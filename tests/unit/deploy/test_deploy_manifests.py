"""The fast deploy checks: the real manifests pass, and each kind of mistake they exist for is caught."""

from __future__ import annotations

import copy
import stat

import pytest
import yaml

from deploy.checks import manifests
from deploy.healthcheck import DEFAULT_PORTS, health_url
from deploy.secret_files import read_env, write


@pytest.fixture(scope="module")
def base_objects():
    return manifests.render(manifests.K8S / "base")


def one(objects, kind, name=None):
    return copy.deepcopy(next(o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])))


def test_the_repository_manifests_and_compose_file_have_no_findings():
    assert manifests.check_kubernetes() == []
    assert manifests.check_compose() == []


def test_an_unknown_or_mistyped_field_is_refused_in_core_objects_and_in_the_keda_scaled_object(base_objects):
    deployment = one(base_objects, "Deployment", "payment-worker")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProb"] = {}
    assert "readinessProb" in " ".join(manifests.schema_findings(deployment))
    scaler = one(base_objects, "ScaledObject")
    scaler["spec"]["maxReplicas"] = 3
    assert "maxReplicas" in " ".join(manifests.schema_findings(scaler))
    scaler = one(base_objects, "ScaledObject")
    scaler["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 50  # KEDA wants strings
    assert "lagThreshold" in " ".join(manifests.schema_findings(scaler))


def test_workers_scaled_beyond_the_partition_count_are_a_finding(base_objects):
    scaler = one(base_objects, "ScaledObject")
    assert list(manifests.scaler_findings([scaler])) == []
    scaler["spec"]["maxReplicaCount"] = 12
    assert "partitions of orders.events" in " ".join(manifests.scaler_findings([scaler]))


def test_probes_budgets_limits_and_secrets_are_enforced(base_objects):
    objects = [o for o in copy.deepcopy(base_objects) if not (o["kind"] == "PodDisruptionBudget"
                                                              and o["metadata"]["name"] == "checkout")]
    checkout = one(objects, "Deployment", "checkout")
    objects.remove(next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "checkout"))
    del checkout["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    del checkout["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    objects.append(checkout)
    objects.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "oops"}, "data": {}})
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    config["data"]["PAYMENT_ENCRYPTION_KEY"] = "x"
    found = " | ".join(manifests.rule_findings(objects, base=True))
    for expected in ("Deployment/checkout: no PodDisruptionBudget", "livenessProbe", "requests or limits",
                     "Secret/oops", "PAYMENT_ENCRYPTION_KEY looks secret"):
        assert expected in found


def test_a_compose_file_off_the_specification_or_pointing_at_missing_modules_is_refused(tmp_path):
    compose = yaml.safe_load(manifests.COMPOSE.read_text())
    compose["services"]["checkout"]["restart"] = ["always"]
    compose["services"]["payment-api"]["command"] = ["python", "-m", "services.nothing"]
    compose["services"]["payment-worker"]["env_file"] = ["secrets/everything.env"]
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(compose))
    found = " | ".join(manifests.check_compose(path))
    assert "restart" in found and "no module services.nothing" in found and "secrets/everything.env" in found


def test_secret_files_pair_the_tokens_keep_values_on_a_rerun_and_are_private(tmp_path):
    write(tmp_path, database_url="postgresql://u:pw@db:5432/postgres", database_prefix="staging_")
    checkout, payment = read_env(tmp_path / "checkout.env"), read_env(tmp_path / "payment.env")
    assert checkout["CHECKOUT_PAYMENT_INTERNAL_TOKEN"] == payment["PAYMENT_INTERNAL_TOKEN"]
    assert checkout["CHECKOUT_TOKEN_SEAL_KEY"] == payment["PAYMENT_TOKEN_SEAL_KEY"]
    assert "PAYMENT_INTERNAL_TOKEN" not in checkout and "CHECKOUT_ADMIN_TOKEN" not in payment
    assert read_env(tmp_path / "database.env")["PAYMENT_DATABASE_URL"] == "postgresql://u:pw@db:5432/staging_payment"
    write(tmp_path)
    assert read_env(tmp_path / "payment.env") == payment
    assert stat.S_IMODE((tmp_path / "payment.env").stat().st_mode) == 0o600


def test_the_image_health_check_finds_each_role_s_url(monkeypatch):
    from services.checkout.settings import CheckoutSettings
    from services.notification.settings import NotificationSettings
    from services.payment.settings import PaymentSettings
    from services.subscription.settings import SubscriptionSettings

    for name, settings in (("checkout", CheckoutSettings), ("payment", PaymentSettings),
                           ("subscription", SubscriptionSettings), ("notification", NotificationSettings)):
        assert DEFAULT_PORTS[name] == settings.model_fields["http_port"].default
    monkeypatch.setenv("PAYMENT_WORKER_HTTP_PORT", "9102")
    monkeypatch.setenv("CHECKOUT_HTTP_PORT", "18401")
    assert health_url(["python", "-m", "services.checkout"]) == "http://127.0.0.1:18401/health"
    assert health_url(["python", "-m", "services.payment", "api"]) == "http://127.0.0.1:8002/health"
    assert health_url(["python", "-m", "services.payment", "worker"]) == "http://127.0.0.1:9102/health"
    assert health_url(["python", "-m", "services.payment", "worker", "--http-port", "7"]) == "http://127.0.0.1:7/health"
    monkeypatch.delenv("PAYMENT_WORKER_HTTP_PORT")
    assert health_url(["python", "-m", "services.payment", "worker"]) is None
    assert health_url(["python", "-m", "emulator", "--port", "18499"]) == "http://127.0.0.1:18499/_emulator/health"
    with pytest.raises(ValueError):
        health_url(["java", "-jar", "x.jar"])
