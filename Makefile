# FedLoom: one gate (`make check`), two commands for newcomers (`make demo`, `make test`).
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
BIN     := $(VENV)/bin
FMNIST20 ?= bench/data/fmnist20

.PHONY: install test check lint typecheck demo bench bench-sim clean

$(BIN)/fedloom: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.14.1 torchvision==0.29.1
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/fedloom

test: install
	$(BIN)/pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check shared tests bench
	$(BIN)/ruff format --check shared tests bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

demo: install
	$(BIN)/fedloom simulate --algorithm fedtgp --dataset synthetic --clients 4 --rounds 5 --out runs/demo

$(FMNIST20)/config.json:
	$(PY) ../shared/tools/partition_fmnist.py $(FMNIST20)

bench-sim: install $(FMNIST20)/config.json
	$(PY) bench/sim_fmnist.py --data $(FMNIST20) --out bench/results/sim_fmnist.json

bench: bench-sim

clean:
	rm -rf runs .pytest_cache .mypy_cache .ruff_cache
