# rmtweights: `make run` runs the default study, `make test` the test suite.
# The environment (~6 GB: torch is a CUDA build) lives outside the clone, keyed by the hash of
# requirements.txt and the Python version, so fresh clones reuse it; `.venv` links to it.
SHELL := /bin/bash
PYTHON ?= python3
CACHE_DIR ?= $(HOME)/.cache/rmtweights
ENV_KEY := $(shell cat requirements.txt | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read() + sys.version.encode()).hexdigest()[:16])")
ENV_DIR := $(CACHE_DIR)/venv-$(ENV_KEY)
VENV := .venv

.PHONY: env profile run test test-fast test-slurm bench lint clean-env

env: $(ENV_DIR)/.complete
	@ln -sfn $(ENV_DIR) $(VENV)

# No prerequisite: the directory name already encodes requirements.txt (a fresh clone's newer
# mtime must not trigger a rebuild).
$(ENV_DIR)/.complete:
	@echo "building the environment in $(ENV_DIR) (once per requirements.txt; several minutes)"
	@rm -rf $(ENV_DIR) && mkdir -p $(CACHE_DIR)
	$(PYTHON) -m venv $(ENV_DIR)
	$(ENV_DIR)/bin/python -m pip install --quiet -r requirements.txt
	@touch $@

run: env profile
	$(VENV)/bin/snakemake --cores all

# `snakemake --profile slurm` looks in ~/.config/snakemake: link ours there (never over an existing one).
profile:
	@bash scripts/link_profile.sh

test: env
	$(VENV)/bin/python -m pytest

test-slurm: env
	$(VENV)/bin/python -m pytest tests/slurm -m slurm

bench: env
	@for b in benchmarks/bench_*.py; do echo "== $$b"; PYTHONPATH=src $(VENV)/bin/python $$b || exit 1; done

lint: env
	$(VENV)/bin/snakemake --lint

clean-env:
	rm -rf $(ENV_DIR) $(VENV)
