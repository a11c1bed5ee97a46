# FedLoom: one gate (`make check`), two commands for newcomers (`make demo`, `make test`).
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
BIN     := $(VENV)/bin
FMNIST20 ?= bench/data/fmnist20

.PHONY: install bootstrap test check lint typecheck demo simulate-demo bench bench-sim bench-generator bench-load builtin-generator clean
.PHONY: bench-soak

PACKAGES := shared/pyproject.toml services/aggregator/pyproject.toml services/generator/pyproject.toml \
	services/client_agent/pyproject.toml

# The core package and the three services, editable, with the development tools.
$(BIN)/fedloom: $(PACKAGES)
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.14.1 torchvision==0.29.1
	$(PIP) install --quiet -e 'shared[all,dev]' -e services/aggregator -e services/generator -e services/client_agent
	touch $@

install: $(BIN)/fedloom

# System packages (Redis, Fashion-MNIST, docker-compose, Chromium): installed, or the commands printed.
bootstrap:
	scripts/bootstrap test

test: install bootstrap
	$(BIN)/pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check shared services tests bench
	$(BIN)/ruff format --check shared services tests bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

# A real local federation: aggregator, generator and 4 client agents as processes on localhost, FedKTL
# with the built-in generator, Fashion-MNIST when installed (synthetic data otherwise), embedded stores.
demo: install
	scripts/bootstrap demo || echo "bootstrap: no Fashion-MNIST; the demo falls back to synthetic data" >&2
	$(BIN)/fedloom demo --out runs/demo

# The same algorithms in one process (no services): FedTGP on synthetic data.
simulate-demo: install
	$(BIN)/fedloom simulate --algorithm fedtgp --dataset synthetic --clients 4 --rounds 5 --out runs/simulate-demo

$(FMNIST20)/config.json:
	$(BIN)/fedloom data partition fmnist20 $(FMNIST20)

bench-sim: install $(FMNIST20)/config.json
	$(PY) bench/sim_fmnist.py --data $(FMNIST20) --out bench/results/sim_fmnist.json

bench-generator: install
	$(PY) bench/generator.py --out bench/results/generator.json

# 300 short FedKTL rounds through one aggregator process (Redis, S3): its RSS after round 300 vs round 50.
bench-soak: install
	$(PY) bench/soak.py --rounds 300 --out bench/results/soak.json

bench: bench-sim bench-generator bench-soak bench-load

# Retrain the committed built-in generator (CPU, about 20 minutes; needs the optional training extra).
builtin-generator: install
	$(PIP) install --quiet -e 'shared[train-builtin]'
	$(PY) -m fedloom.generation.builtin.train --out shared/fedloom/generation/builtin/weights --minutes 30 \
		--seed 0 --steps 3313 --grid docs/builtin_generator.png

clean:
	rm -rf runs .pytest_cache .mypy_cache .ruff_cache

# 1,000 clients x 3 rounds of FedKTL uploads through the real aggregator + Redis, with 1 then 2 API processes
# -> bench/results/load.json; CLIENTS=10000 make bench-load -> bench/results/load_10000.json
CLIENTS ?= 1000
bench-load: install
	$(PY) bench/load.py --clients $(CLIENTS) \
		--out bench/results/load$(if $(filter-out 1000,$(CLIENTS)),_$(CLIENTS)).json

# Deployment (README, "Deploy"): container images, and the offline checks of compose and kustomize files.
.PHONY: images deploy-check
images:
	docker build -f services/aggregator/Dockerfile -t fedloom/aggregator:0.1.0 .
	docker build -f services/generator/Dockerfile -t fedloom/generator:0.1.0 .
	docker build -f services/client_agent/Dockerfile -t fedloom/agent:0.1.0 .

deploy-check: install
	docker-compose -f deploy/docker-compose.yml --env-file deploy/.env.example config -q
	kubectl kustomize deploy/k8s/overlays/dev >/dev/null
	kubectl kustomize deploy/k8s/overlays/prod >/dev/null
	$(BIN)/pytest -q tests/deploy

# One vmapped SGD step over same-architecture clients vs one step per client (hcnn8, B=10, 1 thread, CPU).
.PHONY: bench-batching
bench-batching: install
	$(PY) bench/client_batching.py --out bench/results/batching.json

bench: bench-batching

# Wire bytes per client per round of every registered algorithm (HtFE8, C = 10 and 100; one round each).
.PHONY: bench-comm
bench-comm: install
	$(PY) bench/comm.py --out bench/results/comm.json

bench: bench-comm

# Refresh the README's dashboard picture: the browser test saves its finished page there.
.PHONY: dashboard-picture
dashboard-picture: install
	FEDLOOM_DASHBOARD_SCREENSHOT=$(CURDIR)/docs/dashboard.png $(BIN)/pytest -q tests/services/aggregator/ui/test_dashboard_browser.py

# FedAvg and the personalised algorithms on FMNIST20 with cnn4 against PFLlib's figures (about an hour).
.PHONY: bench-pfl
bench-pfl: install $(FMNIST20)/config.json
	$(PY) bench/pfl_fmnist.py --data $(FMNIST20) --out bench/results/pfl_fmnist.json

# Seconds per round beside PFLlib, same time, 1 thread each, every bench-pfl algorithm (~30 min):
# make bench-pfllib PFLLIB=checkout PFLLIB_SITE=folder [PFLLIB_COMMIT=sha] -> bench/results/pfllib_side_by_side.json
.PHONY: bench-pfllib
bench-pfllib: install $(FMNIST20)/config.json
	@test -n "$(PFLLIB)" || { echo "make bench-pfllib needs PFLLIB=path of a PFLlib checkout"; exit 2; }
	$(PY) bench/pfllib_side_by_side.py --pfllib $(PFLLIB) --data $(FMNIST20) \
		$(if $(PFLLIB_SITE),--site $(PFLLIB_SITE)) $(if $(PFLLIB_COMMIT),--pfllib-commit $(PFLLIB_COMMIT))

# FedTGP and FedProto with differentially private uploads (FMNIST20 + hcnn8, 50 rounds, epsilon 1, 4, 8, inf):
# best accuracy against epsilon, privacy.json and docs/privacy_tradeoff.png (8 runs, two side by side, ~30 min).
.PHONY: bench-privacy
bench-privacy: install $(FMNIST20)/config.json
	$(PY) bench/privacy.py --data $(FMNIST20) --out bench/results/privacy.json --plot docs/privacy_tradeoff.png

bench: bench-privacy

# FedKTL (FMNIST20 + hcnn8, built-in generator, 20 rounds) -> 1,000 synthetic images per class -> a fresh cnn4
# trained on them alone, tested on the real test splits (synthetic.json, docs/synthetic_preview.png; ~15 min).
.PHONY: bench-synthetic
bench-synthetic: install $(FMNIST20)/config.json
	$(PY) bench/synthetic.py --data $(FMNIST20) --out bench/results/synthetic.json
	cp bench/results/runs/synthetic/dataset/preview.png docs/synthetic_preview.png

bench: bench-synthetic

# FedProto and FedTGP on FMNIST20 + hcnn8, 10 rounds: s/round with --workers 1 and 2 (1 thread each) and on a
# local two-node Ray cluster, in one run; speed-ups and whether the accuracies are identical. HTFLLIB=checkout
# (and HTFLLIB_SITE=folder of the packages it imports) adds HtFLlib's time with 2 threads in the same run.
.PHONY: bench-parallel
bench-parallel: install $(FMNIST20)/config.json
	$(PY) bench/sim_parallel.py --data $(FMNIST20) --rounds 10 --out bench/results/sim_parallel.json \
		$(if $(HTFLLIB),--htfllib $(HTFLLIB)) $(if $(HTFLLIB_SITE),--htfllib-site $(HTFLLIB_SITE))
