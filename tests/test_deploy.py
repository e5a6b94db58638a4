"""The ways the platform is started name modules and settings that exist."""

import importlib.util
import re
from pathlib import Path

import yaml
from pydantic_settings import BaseSettings

from dc_gateway.settings import GatewaySettings
from dc_identity.settings import IdentitySettings
from dc_imports.settings import ImportsSettings
from dc_services.settings import ServicesSettings
from dc_wallet.settings import WalletSettings
from dc_workflows.temporal import TemporalSettings

DEPLOY = Path(__file__).parents[1] / "deploy"
SETTINGS: tuple[type[BaseSettings], ...] = (
    GatewaySettings,
    IdentitySettings,
    ImportsSettings,
    ServicesSettings,
    WalletSettings,
)


def known_variables() -> set[str]:
    names = {f"TEMPORAL_{name.upper()}" for name in TemporalSettings.model_fields}
    for settings in SETTINGS:
        for name, field in settings.model_fields.items():
            alias = field.validation_alias
            names.add(alias if isinstance(alias, str) else f"DC_{name.upper()}")
    return names


def manifests() -> list[dict[str, object]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes/platform.yaml").read_text())]


def test_every_deployment_starts_a_module_that_exists() -> None:
    deployments = [doc for doc in manifests() if doc["kind"] == "Deployment"]
    assert len(deployments) >= 9
    for deployment in deployments:
        [container] = deployment["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
        python, dash_m, module = container["command"]
        assert (python, dash_m) == ("python", "-m")
        assert importlib.util.find_spec(module) is not None, module


def test_configuration_names_only_settings_that_exist() -> None:
    [config] = [doc for doc in manifests() if doc["kind"] == "ConfigMap"]
    unknown = set(config["data"]) - known_variables()  # type: ignore[arg-type]
    assert unknown == set()
    embedded = DEPLOY / "embedded/env"
    names = {line.split("=", 1)[0] for line in embedded.read_text().splitlines() if "=" in line}
    for_the_scripts = {"PYTHONUNBUFFERED", "TEMPORAL_UI_PORT"}  # python, temporal.sh and seed.py
    assert names - known_variables() - for_the_scripts == set()


def test_every_procfile_process_starts_something_that_exists() -> None:
    for line in (DEPLOY / "embedded/Procfile").read_text().splitlines():
        if module := re.search(r"python -m ([\w.]+)", line):
            assert importlib.util.find_spec(module.group(1)) is not None, line
        elif script := re.search(r"(deploy/\S+)", line):
            assert (DEPLOY.parent / script.group(1)).exists(), line
