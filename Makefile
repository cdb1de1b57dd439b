# rmtweights: `make run` runs the default study, `make test` the test suite, `make help` lists
# every target. The environment (~6 GB: torch is a CUDA build) lives outside the clone, keyed by
# the hash of requirements.txt and the Python version, so fresh clones reuse it; `.venv` links to
# it, and `.venv/bin/python` imports the clone's own src/ (scripts/env/_rmtweights_src.py).
#
# System packages (apt-get, as root): `make run` installs the default study's data set
# (dataset-fashion-mnist) when it is missing; `make test` installs nothing unless asked with
# CI=true or RMTW_INSTALL_SYSTEM_PACKAGES=1 (then Fashion-MNIST and chromium here, slurm-wlm and munge in
# the SLURM tests); without that, the tests that need them skip and say so.
SHELL := /bin/bash
PYTHON ?= python3
CACHE_DIR ?= $(HOME)/.cache/rmtweights
ENV_KEY := $(shell cat requirements.txt | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read() + sys.version.encode()).hexdigest()[:16])" 2>/dev/null)
ENV_DIR := $(CACHE_DIR)/venv-$(ENV_KEY)
VENV := .venv
INSTALL_SYSTEM_PACKAGES := $(if $(filter true,$(CI))$(filter 1,$(RMTW_INSTALL_SYSTEM_PACKAGES)),1)

.DEFAULT_GOAL := env
.PHONY: help env data profile run test test-fast test-slurm bench bench-ww lint clean-env

help: ## list the targets
	@awk 'BEGIN { FS = ":[^#]*## " } /^[a-z][a-z-]*:.*## / { printf "make %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

env: $(ENV_DIR)/.complete ## build the Python environment once (~6 GB in ~/.cache/rmtweights) and link it as .venv
	@bash scripts/install_env_hooks.sh $(ENV_DIR)
	@ln -sfn $(ENV_DIR) $(VENV)

# No prerequisite: the directory name already encodes requirements.txt (a fresh clone's newer
# mtime must not trigger a rebuild). The hooks (scripts/install_env_hooks.sh) are added by `env`
# on every call, so environments built before them get them too. Without ensurepip (Debian and
# Ubuntu ship it in python3-venv), pip comes from the package index (scripts/bootstrap_pip.py).
$(ENV_DIR)/.complete:
	@command -v $(PYTHON) >/dev/null || { echo "make env: '$(PYTHON)' not found; install Python >= 3.11 (Debian: apt-get install python3) or set PYTHON=" >&2; exit 1; }
	@$(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 11))" || { echo "make env: $(PYTHON) is $$($(PYTHON) -V 2>&1); rmtweights needs >= 3.11 (set PYTHON=)" >&2; exit 1; }
	@echo "building the environment in $(ENV_DIR) (once per requirements.txt; several minutes, ~6 GB)"
	@rm -rf $(ENV_DIR) && mkdir -p $(CACHE_DIR)
	$(PYTHON) -m venv $(ENV_DIR) || { rm -rf $(ENV_DIR) && $(PYTHON) -m venv --without-pip $(ENV_DIR) && $(PYTHON) scripts/bootstrap_pip.py $(ENV_DIR)/bin/python; }
	$(ENV_DIR)/bin/python -m pip install --quiet -r requirements.txt
	@touch $@

data: ## Fashion-MNIST of the default study: apt-get install dataset-fashion-mnist if missing (root)
	@bash scripts/install_data.sh

# `snakemake --profile slurm` looks in ~/.config/snakemake: link ours there (never over an existing one).
profile: ## link profiles/slurm to ~/.config/snakemake/slurm (never over an existing profile)
	@bash scripts/link_profile.sh

# On this machine with profiles/local (every core, rerun-incomplete). After a crash, run it again: a
# lock left by a killed run is removed first when no Snakemake works here (scripts/unlock_stale_lock.py).
# SNAKEMAKE_ARGS: more options, e.g. SNAKEMAKE_ARGS="--cores 4" or "--configfile config/paper.yaml --replace-workflow-config".
run: env profile data ## run (or resume after a crash) the default study on this machine, results in results/
	@$(VENV)/bin/python scripts/unlock_stale_lock.py $(SNAKEMAKE_ARGS)
	$(VENV)/bin/snakemake --workflow-profile local $(SNAKEMAKE_ARGS)

test: env ## the test suite (tests needing system packages skip unless CI=true or RMTW_INSTALL_SYSTEM_PACKAGES=1)
	$(if $(INSTALL_SYSTEM_PACKAGES),@bash scripts/install_data.sh)
	$(if $(INSTALL_SYSTEM_PACKAGES),@bash scripts/install_chromium.sh)
	$(VENV)/bin/python -m pytest

test-fast: env ## the tests not marked slow, slurm or browser
	$(VENV)/bin/python -m pytest -m "not slow and not slurm and not browser"

test-slurm: env ## the SLURM integration tests on a throw-away cluster (root; slurm-wlm + munge, or RMTW_INSTALL_SYSTEM_PACKAGES=1)
	$(VENV)/bin/python -m pytest tests/slurm -m slurm

bench: env ## run benchmarks/bench_*.py (each prints a ratio against the obvious alternative)
	@for b in benchmarks/bench_*.py; do [ $$b = benchmarks/bench_vs_weightwatcher.py ] && continue; echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

# WeightWatcher and what it pulls in (matplotlib, scikit-learn, tqdm) stay out of our environment: it
# gets its own, built once by the script, which defines its requirements and its folder
# ($(CACHE_DIR)/ww-venv-<hash>). `make bench` leaves this benchmark out (it needs that environment).
bench-ww: env ## WeightWatcher 0.7.7 vs analyze_model (builds WW's own environment once, ~6 GB in ~/.cache/rmtweights)
	@$(VENV)/bin/python benchmarks/bench_vs_weightwatcher.py --cache-dir $(CACHE_DIR) --build-ww-env
	$(VENV)/bin/python benchmarks/bench_vs_weightwatcher.py --cache-dir $(CACHE_DIR)

lint: env ## snakemake --lint
	$(VENV)/bin/snakemake --lint

clean-env: ## delete the environment of this requirements.txt (shared by every clone) and .venv
	rm -rf $(ENV_DIR) $(VENV)
