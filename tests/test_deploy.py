"""The ways the platform is deployed, proven offline (no container engine or cluster runs here):
the Kubernetes overlays render (``kubectl kustomize``) and validate against the Kubernetes
schemas; every Deployment starts a module that exists, is probed for readiness and liveness,
has resources and a disruption budget; the compose file names only images, ports and settings
that exist; every setting the code reads appears in the manifests, and they name no other."""

import importlib
import importlib.util
import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from prometheus_client import REGISTRY
from pydantic_settings import BaseSettings

from dc_common.migrations import SERVICES, load
from dc_gateway.settings import GatewaySettings
from dc_identity.settings import IdentitySettings
from dc_imports.settings import ImportsSettings
from dc_services.settings import ServicesSettings
from dc_wallet.settings import WalletSettings
from dc_workflows.temporal import TemporalSettings

DEPLOY = Path(__file__).parents[1] / "deploy"
OVERLAYS = ("dev", "production")
KUBERNETES_VERSION = "1.32.0"
SETTINGS: tuple[type[BaseSettings], ...] = (
    GatewaySettings,
    IdentitySettings,
    ImportsSettings,
    ServicesSettings,
    WalletSettings,
)
#: Where each API listens (its settings' defaults, as the manifests name them).
API_PORTS = {
    "gateway": GatewaySettings().port,
    "identity": IdentitySettings().port,
    "services-mgmt": ServicesSettings().port,
    "wallet": WalletSettings().port,
    "imports": ImportsSettings().port,
}
OPS_PORT = 9000
MIGRATION_SETS = {service: load(service) for service in SERVICES}
Manifest = dict[str, Any]


def known_variables() -> set[str]:
    names = {f"TEMPORAL_{name.upper()}" for name in TemporalSettings.model_fields}
    for settings in SETTINGS:
        for name, field in settings.model_fields.items():
            alias = field.validation_alias
            names.add(alias if isinstance(alias, str) else f"DC_{name.upper()}")
    return names


@cache
def rendered(overlay: str) -> tuple[Manifest, ...]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its kustomize) is needed to render deploy/kubernetes"
    output = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / "kubernetes/overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return tuple(yaml.safe_load_all(output))


def of_kind(overlay: str, kind: str) -> list[Manifest]:
    return [doc for doc in rendered(overlay) if doc["kind"] == kind]


def container_of(deployment: Manifest) -> Manifest:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_and_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    manifests = rendered(overlay)
    assert len(manifests) > 25
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_starts_a_module_that_exists_and_is_probed(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    budgets = {doc["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for doc in
               of_kind(overlay, "PodDisruptionBudget")}  # fmt: skip
    platform = [d for d in deployments if d["metadata"]["name"] != "mail"]
    assert len(platform) == 9
    for deployment in platform:
        name = deployment["metadata"]["name"]
        container = container_of(deployment)
        python, dash_m, module = container["command"]
        assert (python, dash_m) == ("python", "-m")
        assert importlib.util.find_spec(module) is not None, module
        port = API_PORTS.get(name, OPS_PORT)
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}, name
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}, name
        assert {"requests", "limits"} <= set(container["resources"]), name
        assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == (
            str(OPS_PORT)
        )
        assert name in budgets, f"{name} has no PodDisruptionBudget"
    scaled = {
        doc["spec"]["scaleTargetRef"]["name"] for doc in of_kind(overlay, "HorizontalPodAutoscaler")
    }
    assert {
        d["metadata"]["name"] for d in platform if d["metadata"]["name"].endswith("-worker")
    } <= scaled


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_s_migrations_run_as_a_job_before_a_rollout(overlay: str) -> None:
    commands = set()
    for job in of_kind(overlay, "Job"):
        [container] = job["spec"]["template"]["spec"]["containers"]
        commands.add(tuple(container["command"]))
        database = MIGRATION_SETS[container["command"][3]].database_variable
        assert [env["name"] for env in container["env"]] == [database]
    assert commands == {
        ("python", "-m", "dc_common.migrations", service, "upgrade") for service in MIGRATION_SETS
    }


def manifest_variables(overlay: str) -> set[str]:
    """Every variable the overlay sets: its ConfigMap's keys and each container's env names."""
    names: set[str] = set()
    for config in of_kind(overlay, "ConfigMap"):
        names |= set(config["data"])
    for deployment in of_kind(overlay, "Deployment"):
        names |= {env["name"] for env in container_of(deployment).get("env", [])}
    return names


def compose() -> Manifest:
    document: Manifest = yaml.safe_load((DEPLOY / "compose/compose.yaml").read_text())
    return document


def compose_variables() -> set[str]:
    env_file = (DEPLOY / "compose/platform.env.example").read_text()
    names = {line.split("=", 1)[0] for line in env_file.splitlines() if re.match(r"^\w+=", line)}
    for service in compose()["services"].values():
        if service.get("image") == "dc-platform:latest":
            names |= set(service.get("environment", {}))
    return names


def test_every_setting_the_code_reads_appears_in_the_manifests_and_no_other() -> None:
    known = known_variables()
    kubernetes = set().union(*(manifest_variables(overlay) for overlay in OVERLAYS))
    assert known - kubernetes == set(), "settings no Kubernetes overlay sets"
    for overlay in OVERLAYS:
        assert manifest_variables(overlay) - known == set(), overlay
    assert compose_variables() - known == set()
    embedded = DEPLOY / "embedded/env"
    names = {line.split("=", 1)[0] for line in embedded.read_text().splitlines() if "=" in line}
    for_the_scripts = {"PYTHONUNBUFFERED", "TEMPORAL_UI_PORT"}  # python, temporal.sh and seed.py
    assert names - known - for_the_scripts == set()


def test_the_compose_file_names_only_images_ports_and_services_that_exist() -> None:
    services = compose()["services"]
    platform = {name: s for name, s in services.items() if s.get("image") == "dc-platform:latest"}
    assert set(platform) == {
        *API_PORTS,
        "services-mgmt-worker",
        "wallet-worker",
        "imports-worker",
        "lifecycle-worker",
    }
    for name, service in services.items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), f"{name}: {image} is not name:tag"
        if name not in platform:
            assert not image.endswith(":latest"), f"{name}: pin {image}"
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on {needed}, which is not a service"
        for published in service.get("ports", []):
            assert published.startswith("127.0.0.1:"), f"{name} publishes {published} to all"
    for name, service in platform.items():
        python, dash_m, module = service["command"]
        assert (python, dash_m) == ("python", "-m")
        assert importlib.util.find_spec(module) is not None, module
        assert "readyz" in " ".join(service["healthcheck"]["test"]), name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert [port.split(":")[-1] for port in platform["gateway"]["ports"]] == [
        str(API_PORTS["gateway"])
    ]
    assert (
        DEPLOY.parent / services["db"]["volumes"][1].split(":")[0].replace("./", "deploy/compose/")
    ).exists()


#: Metrics of the Temporal SDK (its core's names, as the Prometheus reader names them; seen in
#: tests/integration/test_metrics.py, the failure counters from the SDK's documentation).
SDK_METRICS = {
    "temporal_request",
    "temporal_workflow_task_execution_latency_milliseconds",
    "temporal_workflow_task_schedule_to_start_latency_milliseconds",
    "temporal_local_activity_execution_latency_milliseconds",
    "temporal_activity_execution_latency_milliseconds",
    "temporal_activity_execution_failed",
    "temporal_workflow_failed",
}


def test_the_dashboard_names_only_metrics_that_exist() -> None:
    importlib.import_module("dc_services.activities")
    importlib.import_module("dc_imports.activities")
    importlib.import_module("dc_wallet.activities")
    importlib.import_module("dc_common.metrics")
    ours = {family.name for family in REGISTRY.collect()}
    dashboard = json.loads((DEPLOY / "grafana/dashboard.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(expressions) >= 12
    named = set()
    for expression in expressions:
        named |= set(re.findall(r"\b((?:dc|temporal)_\w+)", expression))
    for name in named:
        family = re.sub(r"_(total|bucket|count|sum)$", "", name)
        assert family in ours | SDK_METRICS, f"the dashboard names {name}, which nothing exports"
    assert {"dc_http_requests", "dc_services_projected", "dc_import_rows"} <= {
        re.sub(r"_(total|bucket|count|sum)$", "", name) for name in named
    }


def test_every_procfile_process_starts_something_that_exists() -> None:
    for line in (DEPLOY / "embedded/Procfile").read_text().splitlines():
        if module := re.search(r"python -m ([\w.]+)", line):
            assert importlib.util.find_spec(module.group(1)) is not None, line
        elif script := re.search(r"(deploy/\S+)", line):
            assert (DEPLOY.parent / script.group(1)).exists(), line
