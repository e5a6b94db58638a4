# The front door. `make run` starts the platform, `make test` passes the tests.
SHELL := /bin/bash
UV := $(or $(shell command -v uv 2>/dev/null),python3 -m uv)
MYPY_PATHS := workflows/src services/common/src services/services-mgmt/src services/identity/src services/gateway/src services/imports/src services/wallet/src

.PHONY: help install run test lint format bench clean

help:
	@echo "make run    start the whole platform (Temporal dev server, services, workers, gateway, demo data)"
	@echo "make test   install what the tests need and run the whole suite"
	@echo "make lint   ruff and mypy"
	@echo "make bench  benchmarks under bench/"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet

run: install
	@mkdir -p var
	@test -s var/internal-token || python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > var/internal-token
	@DC_INTERNAL_TOKEN=$${DC_INTERNAL_TOKEN:-$$(cat var/internal-token)} $(UV) run --no-sync honcho --no-colour -f deploy/embedded/Procfile -e deploy/embedded/env start

test: install
	@$(UV) run --no-sync pytest

lint: install
	@$(UV) run --no-sync ruff check .
	@$(UV) run --no-sync ruff format --check .
	@$(UV) run --no-sync mypy $(MYPY_PATHS)

format: install
	@$(UV) run --no-sync ruff check --fix .
	@$(UV) run --no-sync ruff format .

bench: install
	@$(UV) run --no-sync python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
