"""Workers as processes of their own, for tests that kill them like a crash would."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.platform import Platform


def worker_environment(platform: Platform, **extra: str) -> dict[str, str]:
    """The environment a worker process of this platform is started with."""
    services = platform.services_settings
    environment = {
        **os.environ,
        "TEMPORAL_ADDRESS": platform.temporal_settings.address,
        "TEMPORAL_NAMESPACE": platform.temporal_settings.namespace,
        "DC_SERVICES_DATABASE_URL": services.database_url,
        "DC_IDENTITY_URL": services.identity_url,
        "DC_SMTP_PORT": str(services.smtp_port),
    }
    if platform.imports_settings is not None:
        environment["DC_IMPORTS_DATABASE_URL"] = platform.imports_settings.database_url
    if platform.wallet_settings is not None:
        environment["DC_WALLET_DATABASE_URL"] = platform.wallet_settings.database_url
    return {**environment, **extra}


@contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``python *args``; killed (SIGKILL) on exit if it still runs."""
    child = subprocess.Popen([sys.executable, *args], env=env)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)


def stop_all(children: list[subprocess.Popen[bytes]], *, within: float = 15) -> None:
    """SIGTERM to every one still running, then wait for each; killed if it does not stop."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=within)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
