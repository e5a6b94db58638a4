# The front door. `make run` starts the platform, `make test` passes the tests.
SHELL := /bin/bash
UV := $(or $(shell command -v uv 2>/dev/null),python3 -m uv)
MYPY_PATHS := workflows/src services/common/src services/services-mgmt/src services/identity/src services/gateway/src services/imports/src services/wallet/src

.PHONY: help install browser run test lint format messages bench soak clean

help:
	@echo "make run    start the whole platform (Temporal dev server, services, workers, gateway, demo data)"
	@echo "make test   install what the tests need and run the whole suite"
	@echo "make lint   ruff and mypy"
	@echo "make bench  benchmarks under bench/"
	@echo "make soak   the platform held at a steady rate for ten minutes (bench/soak.py)"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet

run: install
	@mkdir -p var
	@test -s var/internal-token || python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > var/internal-token
	@DC_INTERNAL_TOKEN=$${DC_INTERNAL_TOKEN:-$$(cat var/internal-token)} $(UV) run --no-sync honcho --no-colour -f deploy/embedded/Procfile -e deploy/embedded/env start

test: install browser
	@$(UV) run --no-sync pytest

# The browser tests drive Debian's Chromium (Playwright's own download is not used).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install
	@$(UV) run --no-sync ruff check .
	@$(UV) run --no-sync ruff format --check .
	@$(UV) run --no-sync mypy $(MYPY_PATHS)

format: install
	@$(UV) run --no-sync ruff check --fix .
	@$(UV) run --no-sync ruff format .

# The portal's texts: extract them from the templates and code, merge them into the catalogues
# (then translate the new entries in services/gateway/src/dc_gateway/portal/locale/*/LC_MESSAGES).
messages: install
	@cd services/gateway && $(UV) run --no-sync pybabel extract -F babel.cfg -o var-messages.pot --no-location --omit-header . \
		&& $(UV) run --no-sync pybabel update -D messages -i var-messages.pot -d src/dc_gateway/portal/locale --ignore-obsolete --width 100 \
		&& rm var-messages.pot
	@cd services/gateway && $(UV) run --no-sync pybabel extract -F babel-jobtracker.cfg -k Nn_:1,2 -o var-jobtracker.pot --no-location --omit-header . \
		&& $(UV) run --no-sync pybabel update -D jobtracker -i var-jobtracker.pot -d src/dc_gateway/portal/locale --ignore-obsolete --width 100 \
		&& rm var-jobtracker.pot

bench: install
	@$(UV) run --no-sync python -m bench

soak: install
	@$(UV) run --no-sync python -m bench.soak

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
