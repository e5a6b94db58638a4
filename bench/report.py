"""What every benchmark writes: the machine it ran on, and its figures as a JSON file under
``bench/results/`` named by the benchmark, its size and the time."""

from __future__ import annotations

import json
import os
import platform
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def platform_environment() -> None:
    """What the platform's processes need and a benchmark sets when it is not given: the secret
    its internal APIs share (a fresh one), and logs of warnings only."""
    os.environ.setdefault("DC_INTERNAL_TOKEN", secrets.token_urlsafe(32))
    os.environ.setdefault("DC_LOG_LEVEL", "WARNING")


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def write_result(result: dict[str, Any], name: str, size: int, out: Path = RESULTS) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"{name}-{size}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {path}")
    return path
