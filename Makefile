# Every target sets itself up: a fresh clone needs only Python 3.11+ and make.
# Packages come from the hash-pinned lock files (requirements.lock, requirements-bench.lock,
# requirements-spark.lock for the Spark engine, requirements-deploy.lock for the Docker and
# Kubernetes spawners),
# installed by a pinned uv; `make lock` regenerates them from pyproject.toml.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
VENV := .venv
UV := $(TOOLS)/bin/uv
STAMP := $(VENV)/.synced
RUN := $(VENV)/bin
COMPILE := $(UV) pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 --quiet

.PHONY: setup setup-deploy demo up proxy assets test test-spark lint typecheck bench lock clean

setup: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(RUN)/python: | $(UV)
	$(UV) venv --quiet --python $(PYTHON) $(VENV)

define sync
	$(UV) pip sync --quiet --compile-bytecode --python $(RUN)/python --require-hashes $(1)
	$(UV) pip install --quiet --python $(RUN)/python --no-deps --no-build-isolation -e .
endef

$(STAMP): pyproject.toml requirements.lock | $(RUN)/python
	$(call sync,requirements.lock)
	@touch $@

# the hub's image for the Docker and Kubernetes profiles: the spawners, pinned (hub/docker/Dockerfile)
setup-deploy: $(STAMP)
	$(call sync,requirements-deploy.lock)
	@rm -f $(STAMP)

demo: $(STAMP)
	$(RUN)/tre demo

# the npm proxy when Node.js is present (pinned by hub/proxy/package-lock.json); else the
# hub falls back to the Python port and says so
PROXY := hub/proxy/node_modules/.bin/configurable-http-proxy
$(PROXY): hub/proxy/package.json hub/proxy/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd hub/proxy && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "Node.js is missing: the hub will use the Python proxy"; fi

proxy: $(STAMP)
	@$(MAKE) --no-print-directory $(PROXY) || true

# the pages' look (GOV.UK Frontend's CSS) and the browser tests' accessibility checker (axe-core),
# pinned by tre/static/package-lock.json, when Node.js is present; else the pages are unstyled
# and the service says so in its log
ASSETS := tre/static/node_modules/.package-lock.json
$(ASSETS): tre/static/package.json tre/static/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd tre/static && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "Node.js is missing: the tre pages will be unstyled"; fi

assets:
	@$(MAKE) --no-print-directory $(ASSETS) || true

# `make up URL=http://HOST:PORT` (or TRE_HUB_URL) moves the hub's address; TRE_SERVICE_PORT,
# TRE_HUB_API_PORT and TRE_PROXY_API_PORT the loopback ports behind it (README, app/up.py)
up: $(STAMP) proxy assets
	$(RUN)/python -m app.up $(if $(URL),--url "$(URL)")

# pytest's exit 5 (no test collected) is a broken set-up, never a pass.
test: lint proxy assets
	@$(RUN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no test" >&2; exit 1; fi; \
	exit $$status

# style, the layers of docs/architecture.md (import-linter's contracts in pyproject.toml) and the types
lint: $(STAMP)
	$(RUN)/ruff check .
	$(RUN)/ruff format --check .
	$(RUN)/lint-imports
	@$(MAKE) --no-print-directory typecheck

# the types, by mypy (its settings, and the untyped third-party packages, in pyproject.toml)
typecheck: $(STAMP)
	$(RUN)/mypy tre sdc projects output_checks notebooks hub app

# the benchmarks add ACRO (the field's current checker) as a second baseline
bench: $(STAMP)
	$(call sync,requirements-bench.lock)
	@rm -f $(STAMP)
	$(RUN)/python benchmarks/run.py

# the Spark engine's smoke test, with the spark extra (pyspark; Java 17 or later must be present)
test-spark: $(STAMP)
	$(call sync,requirements-spark.lock)
	@rm -f $(STAMP)
	$(RUN)/pytest -q tests/linkage/test_tokens.py -k spark

lock: | $(UV)
	$(COMPILE) --group dev -o requirements.lock
	$(COMPILE) --group dev --group bench -o requirements-bench.lock
	$(COMPILE) --group dev --extra spark -o requirements-spark.lock
	$(COMPILE) --extra docker --extra k8s -o requirements-deploy.lock

clean:
	rm -rf $(VENV) $(TOOLS) demo-instance .pytest_cache
