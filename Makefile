# digitrec: `make lab` to learn, `make test` to check everything.
# Each target creates the virtual environment (.venv) first if it is missing or stale.
# Conda users: `conda env create -f environment.yml && conda activate digitrec`, then run
# the same targets with USE_CONDA=1 (e.g. `make lab USE_CONDA=1`).

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
# Where trained models go: the folder the notebooks and the app read (DIGITREC_MODELS, else
# models/), and the recommended model (DIGITREC_MODEL, else cnn.keras in that folder); a
# relative path is from this folder, for the notebooks too.
MODELS_DIR := $(patsubst ~/%,$(HOME)/%,$(or $(DIGITREC_MODELS),models))
MODEL ?= $(patsubst ~/%,$(HOME)/%,$(or $(DIGITREC_MODEL),$(MODELS_DIR)/cnn.keras))
# TensorFlow's oneDNN CPU kernels, which it turns on by itself only on CPUs with AVX-512
# VNNI, bfloat16 or AMX units: on an AVX2 laptop they make training markedly faster (and
# reading one drawing a little slower, so the app keeps TensorFlow's choice). 0 turns them off.
lab train train-seed: export TF_ENABLE_ONEDNN_OPTS ?= 1
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

ifeq ($(USE_CONDA),1)
PY := python
ENV_STAMP :=
else
PY := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.installed
endif

.PHONY: help env lab test test-fast train train-seed app bench lint format clean

help:
	@echo "make lab    - set up (first time) and open the notebooks in JupyterLab"
	@echo "make test   - set up (first time) and run every test, notebooks and browser included"
	@echo "make test-fast - the quick tier: unit tests without training, servers or browsers"
	@echo "make train  - train the recommended model into $(MODEL) (skipped if it exists)"
	@echo "make train-seed - train the course's seed CNN (fast recipe) into $(MODELS_DIR)/seed_cnn.keras"
	@echo "make app    - serve the web app on $(HOST):$(PORT) (your $(MODEL), else the shipped model)"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make lint   - ruff check and format check"

env: $(ENV_STAMP)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[notebooks,app,dev]"
	@touch $@

lab: $(ENV_STAMP)
	$(PY) -m jupyter lab --ServerApp.ip=127.0.0.1 $(LAB_ARGS) notebooks/

test: $(ENV_STAMP)
	$(PY) -m pytest

# The quick tier while working: no notebooks, no training, no servers, no browsers.
test-fast: $(ENV_STAMP)
	$(PY) -m pytest tests -m "not slow and not browser" -q

# The recommended model, as shipped in digitrec/pretrained/: the `improved` recipe (kept as
# $(STAGE1)), two epochs that teach it the 1 with a flag and the slashed 0 (kept as $(STAGE2)),
# two more that also teach it digits drawn with straight strokes, boxy ones among them, then
# its "unsure" threshold chosen (digitrec.calibration). A stage kept from a run that failed
# later is reused.
STAGE1 = $(MODEL:.keras=-improved.keras)
STAGE2 = $(MODEL:.keras=-polished.keras)
train: $(ENV_STAMP)
	@if [ -f "$(MODEL)" ]; then \
		echo "$(MODEL) exists; remove it to retrain (or give another MODEL=path.keras)"; \
	else \
		{ [ -f "$(STAGE1)" ] || $(PY) -m digitrec.train --recipe improved --out "$(STAGE1)"; } && \
		{ [ -f "$(STAGE2)" ] || $(PY) -m digitrec.train --recipe polish --init "$(STAGE1)" \
			--flags 0.2 --slashes 0.2 --seed 1 --out "$(STAGE2)"; } && \
		$(PY) -m digitrec.train --recipe polish --init "$(STAGE2)" --flags 0.2 --slashes 0.2 \
			--angular 0.15 --seed 2 --out "$(MODEL)" && \
		$(PY) -m digitrec.calibration --model "$(MODEL)" --write; \
	fi

# The course's seed CNN (what notebook 03 trains and saves), with the fast recipe.
train-seed: $(ENV_STAMP)
	@if [ -f "$(MODELS_DIR)/seed_cnn.keras" ]; then \
		echo "$(MODELS_DIR)/seed_cnn.keras exists; to retrain:"; \
		echo "  $(PY) -m digitrec.train --recipe fast --out '$(MODELS_DIR)/seed_cnn.keras' --force"; \
	else \
		$(PY) -m digitrec.train --recipe fast --out "$(MODELS_DIR)/seed_cnn.keras"; \
	fi

# `python -m app` serves with waitress on one thread (the work is CPU-bound, so more threads
# only slow each request; bench/serve_load.py) and sets waitress's body limit to the app's.
# It serves $(MODEL) if you trained one, else the model shipped with the package;
# `make app MODEL=path.keras` serves that file.
app: $(ENV_STAMP)
	$(if $(filter command line,$(origin MODEL)),DIGITREC_MODEL="$(MODEL)" )$(PY) -m app \
		--host=$(HOST) --port=$(PORT)

bench: $(ENV_STAMP)
	$(PY) bench/predict_latency.py
	$(PY) bench/drawn_digits.py
	$(PY) bench/train_speed.py
	$(PY) bench/train_step.py

lint: $(ENV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(ENV_STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
