"""``python -m bench`` (``make bench``): every benchmark, one after the other, each in a process of
its own, then ``bench/RESULTS.md`` from the figures they wrote. Not part of ``make test``.

    python -m bench                       the default sizes: about 10 minutes on 2 cores
    python -m bench --full                the sizes of the region (25 million services): hours
    python -m bench --only listing,lifecycle

Each benchmark measures its own baseline in the same run and prints the ratio (see the module
of each: :mod:`bench.listing`, :mod:`bench.lifecycle`, :mod:`bench.imports`,
:mod:`bench.allocation`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.listing import table as listing_table
from bench.report import RESULTS

HERE = Path(__file__).parent
SUMMARY = HERE / "RESULTS.md"

#: Each benchmark's arguments: at the default size, and at the full size.
SIZES: dict[str, tuple[list[str], list[str]]] = {
    "listing": (
        ["--services", "300000", "--largest", "200000", "--rounds", "10"],
        ["--services", "25000000", "--largest", "2000000", "--rounds", "10"],
    ),
    "lifecycle": (["--services", "300"], ["--services", "3000"]),
    "imports": (["--rows", "5000"], ["--rows", "100000"]),
    "allocation": (["--wallets", "1000"], ["--wallets", "1000"]),
}


def run(name: str, arguments: list[str]) -> tuple[Path | None, float]:
    """Run one benchmark; the results file it wrote (None if it failed) and its seconds."""
    before = set(RESULTS.glob(f"{name}-*.json"))
    began = time.perf_counter()
    command = [sys.executable, "-m", f"bench.{name}", *arguments]
    print(f"== {' '.join(command[1:])}", flush=True)
    finished = subprocess.run(command, check=False)
    seconds = time.perf_counter() - began
    written = sorted(set(RESULTS.glob(f"{name}-*.json")) - before)
    if finished.returncode != 0 or not written:
        print(f"== {name} failed (exit {finished.returncode})", flush=True)
        return None, seconds
    return written[-1], seconds


def summary(files: dict[str, Path], seconds: dict[str, float], full: bool) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m bench{' --full' if full else ''}` (`make bench`) on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; machine: {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}. Every "
        "figure beside the baseline its benchmark measured in the same run; the files under "
        "`results/` hold them all. How each is measured: `bench/README.md` and each module.",
        "",
    ]
    for name, path in files.items():
        result = json.loads(path.read_text())
        lines += [f"## {name} ({seconds[name]:.0f} s, `results/{path.name}`)", ""]
        lines += SECTIONS[name](result)
        lines.append("")
    return "\n".join(lines)


def _listing(result: dict[str, Any]) -> list[str]:
    export = result["export"]
    return [
        f"{result['services']:,} services, the largest company {result['largest_window']:,} in "
        f"its 13-month window; {result['rounds']} calls per caller.",
        "",
        listing_table(result),
        "",
        f"Export of the largest window: {export['rows']:,} rows, {export['csv: rows/s']:,} rows/s "
        f"as CSV in {export['csv: peak MiB']} MiB peak (reading alone: "
        f"{export['read only: rows/s']:,} rows/s).",
        *_plan(result),
    ]


def _plan(result: dict[str, Any]) -> list[str]:
    if "plan" not in result:
        return []
    return [
        "",
        "How PostgreSQL reads page 1 of the window (`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)`):",
        "",
        "```",
        result["plan"],
        "```",
    ]


def _lifecycle(result: dict[str, Any]) -> list[str]:
    lifecycle = result["lifecycle"]
    registration = lifecycle["registration_ms"]
    return [
        "| | |",
        "|---|---|",
        f"| services registered, validated, confirmed and allocated | "
        f"{lifecycle['services']} in {lifecycle['seconds']} s: "
        f"**{lifecycle['services_per_second']}/s** |",
        f"| registration p50 / p95 / p99 (concurrency {result['settings']['concurrency']}) | "
        f"{registration['p50']} / {registration['p95']} / {registration['p99']} ms |",
        f"| baseline: a bare workflow of three ordinary activities | "
        f"{result['baseline_three_activities_per_second']}/s |",
        f"| ratio | **{result['ratio_to_baseline']}** |",
    ]


def _imports(result: dict[str, Any]) -> list[str]:
    imported = result["import"]
    lines = [
        "| | |",
        "|---|---|",
        f"| rows | {imported['rows']:,}: {imported['accepted']:,} accepted |",
        f"| lifecycles started | **{imported['lifecycles_started_per_second']}/s** |",
        f"| baseline COPY of the same rows | "
        f"{result['baseline_copy']['rows_per_second']:,} rows/s |",
    ]
    if "baseline_bare_starts_per_second" in result:
        lines += [
            f"| baseline: bare starts (one local activity, a timer) | "
            f"{result['baseline_bare_starts_per_second']}/s |",
            f"| ratio of the import's starts to the bare starts | "
            f"**{result['ratio_starts_to_bare']}** |",
        ]
    return lines


def _allocation(result: dict[str, Any]) -> list[str]:
    settings = result["settings"]
    return [
        "| | |",
        "|---|---|",
        f"| vouchers allocated, {settings['wallets']} wallets, {settings['concurrency']} at a time "
        f"| **{result['vouchers_allocated_per_second']:,}/s** |",
        f"| baseline: plain updates of as many voucher rows | "
        f"{result['baseline_plain_updates_per_second']:,}/s |",
        f"| ratio | **{result['ratio_to_baseline']}** |",
    ]


SECTIONS = {
    "listing": _listing,
    "lifecycle": _lifecycle,
    "imports": _imports,
    "allocation": _allocation,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--full", action="store_true", help="the sizes of the region")
    parser.add_argument("--only", default=",".join(SIZES), help="comma-separated benchmarks")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SIZES)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    files: dict[str, Path] = {}
    seconds: dict[str, float] = {}
    for name in chosen:
        default, full = SIZES[name]
        path, seconds[name] = run(name, full if args.full else default)
        if path is not None:
            files[name] = path
    SUMMARY.write_text(summary(files, seconds, args.full) + "\n")
    print(f"== {len(files)} of {len(chosen)} benchmarks; figures in {SUMMARY}")
    return 0 if len(files) == len(chosen) else 1


if __name__ == "__main__":
    raise SystemExit(main())
