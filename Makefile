# gotk: `make run` and `make test` both start with `make setup`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CACHE ?= $(HOME)/.cache/gotk
APT_PACKAGES := git openssl openssh-server openssh-client docker-registry gnupg gcc libc6-dev

.PHONY: setup setup-apt setup-python setup-controlplane run test lint typecheck importlint crds crds-check unit integration clean

setup: setup-apt setup-python setup-controlplane

setup-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

setup-python: $(VENV)/.installed

setup-controlplane:
	@scripts/build-controlplane.sh

run: setup
	$(VENV)/bin/flux local up --dir .local/cluster --foreground --demo examples/demo

lint:
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck:
	$(VENV)/bin/mypy src

importlint:
	$(VENV)/bin/lint-imports

crds:
	$(PY) -m gotk.api.crdgen config/crd

crds-check:
	$(PY) -m gotk.api.crdgen --check config/crd

unit:
	$(VENV)/bin/pytest -q tests/unit

integration:
	$(VENV)/bin/pytest -q tests/integration

test: setup lint typecheck importlint crds-check
	$(VENV)/bin/pytest -q -p no:cacheprovider tests

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
