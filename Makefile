# From a clean clone to the warehouse and dashboards: `make run`; every test: `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Every dependency, transitive ones included, pinned with hashes: `make lock`
# writes it from pyproject.toml, `make install` installs exactly it with uv.
LOCK := requirements.lock
UV_VERSION := 0.13.9
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
# Bump when the install recipe changes, so that existing venvs run it again.
INSTALL_RECIPE := 2
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml $(LOCK); echo $(INSTALL_RECIPE)) | sha1sum | cut -c1-12)
MANIFEST := dbt_project/target/manifest.json
DAGSTER_HOME := $(CURDIR)/var/dagster_home
export DAGSTER_HOME

# pip here also looks in local wheel folders and warns about each missing one.
PIP_QUIET := grep -v -e '^WARNING: Location' -e '^$$' || true

.PHONY: help install lock run test bench dev docs clean browser postgres

help:
	@echo "make run    install, generate the demo landing, run the daily job, build the dashboards"
	@echo "make test   install and run every test"
	@echo "make bench  time 'aftersales run' (BENCH_ARGS='--stores 20 --years 3')"
	@echo "make dev    the Dagster UI on http://127.0.0.1:3000"
	@echo "make docs   the dbt docs site in one file, var/dbt_docs/index.html (runs the job first if no warehouse)"
	@echo "make lock   re-pin every dependency into $(LOCK) after editing pyproject.toml"

# uv, pinned, into the venv: it installs the lock in seconds where pip takes minutes.
$(UV_STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q uv==$(UV_VERSION) 2>&1 | $(PIP_QUIET)
	@rm -f $(VENV)/.uv-* && touch $@

# Re-installs whenever pyproject.toml or the lock changes.
$(STAMP): pyproject.toml $(LOCK) $(UV_STAMP)
	@echo "installing the locked Python dependencies into $(VENV) ..."
	@$(BIN)/uv pip install -q --python $(BIN)/python --require-hashes -r $(LOCK)
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@# PyPI has pyspark only as a source archive, and uv keeps every build of it
	@# (1.4 GB each): without a prune, every fresh clone's install grows the cache
	@# until the disk is full. The prune keeps what this install uses.
	@$(BIN)/uv cache prune -q
	@# Bytecode for every installed module, once: where PYTHONDONTWRITEBYTECODE is
	@# set (as on CI machines) Python would otherwise compile dbt, Dagster and
	@# Great Expectations from source in every process, seconds each time.
	@$(BIN)/python -m compileall -q -j 0 $(VENV)/lib
	@$(BIN)/python -c "import dagster, dagster_dbt, dbt, duckdb, great_expectations"
	@rm -f $(VENV)/.installed-* && touch $@

# After a change to pyproject.toml's dependencies: re-resolve and re-pin
# everything, for every platform, with hashes; commit the lock with it.
lock: $(UV_STAMP)
	@$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --universal --python-version 3.11 \
		-q -o $(LOCK)

install: $(STAMP) $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml

# dagster-dbt reads the manifest when the code location loads.
$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f) dbt_project/dbt_project.yml
	@cd dbt_project && ../$(BIN)/dbt parse --profiles-dir . --quiet

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@printf 'telemetry:\n  enabled: false\n' > $@

# Headless Chromium for the browser tests (Debian's package; downloaded browsers
# do not work here) and a CJK font so Chinese labels render in screenshots.
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-microhei
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
			|| ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then \
		echo "installing $(BROWSER_PACKAGES) with apt-get ..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	fi

# PostgreSQL's server binaries for the tests' throwaway clusters (Debian's
# package; the tests run initdb and pg_ctl from /usr/lib/postgresql/*/bin).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing postgresql with apt-get ..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

run: install
	@$(BIN)/aftersales run

test: install browser postgres
	@$(BIN)/python -m pytest

bench: install
	@$(BIN)/aftersales bench $(BENCH_ARGS)

# The venv's bin folder on PATH, for anything the UI's runs start by name.
dev: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -m orchestration.definitions

# The warehouse `aftersales run` and `aftersales docs` use (settings.py).
WAREHOUSE := $(or $(AFTERSALES_DUCKDB),var/warehouse.duckdb)
docs: install
	@test -f "$(WAREHOUSE)" || $(BIN)/aftersales run
	@$(BIN)/aftersales docs

clean:
	rm -rf var dbt_project/target dbt_project/logs
