"""Alembic's entry point for this service's migrations (see dc_common.migrations)."""

from dc_common.migrations import run_env

run_env()
