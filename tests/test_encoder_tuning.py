"""Tuning the encoder: its word-piece labels follow the gold roles, and the shipped adapter is
added into the official weights and names the graph built from it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from workers.pipeline.encoder import CLS, SEP
from workers.pipeline.encoder_graph import builder_id, tuned_weights, weights_dir
from workers.pipeline.model import load_nlp
from workers.training.tune_encoder import PIECE_LABELS, _spans, windows

REPO = Path(__file__).resolve().parents[1]
TRAINING_PYTHON = REPO / ".venv-train" / "bin" / "python"
QUERY = "encoder.layer.0.attention.self.query.weight"
TEXT = "Gladkov said the bridge was shelled on Tuesday."


def gold_of(text: str, **roles: str) -> dict:
    spans = {role: {"start": text.index(part), "end": text.index(part) + len(part), "text": part}
             for role, part in roles.items()}
    return {"text": text, "attributions": [{"source": spans["source"], "cue": spans["cue"],
                                            "content": spans["content"], "type": "indirect"}]}


def test_every_piece_carries_its_tokens_role_and_only_a_spans_first_piece_begins_it() -> None:
    doc = load_nlp()(TEXT)
    gold = gold_of(TEXT, source="Gladkov", cue="said", content="the bridge was shelled on Tuesday")
    [(ids, labels)] = windows(doc, gold)
    assert ids[0] == CLS and ids[-1] == SEP and labels[0] == labels[-1] == -100
    names = [PIECE_LABELS[i] for i in labels[1:-1]]
    source_pieces = names.index("B-CUE")  # "Gladkov" is more than one piece
    assert source_pieces > 1
    assert names[:source_pieces] == ["B-SOURCE"] + ["I-SOURCE"] * (source_pieces - 1)
    assert names[source_pieces] == "B-CUE" and names[source_pieces + 1] == "B-CONTENT"
    assert set(names[source_pieces + 2:-1]) == {"I-CONTENT"} and names[-1] == "O"  # the full stop
    assert _spans(labels[1:-1].tolist()) == {(0, source_pieces, "SOURCE"), (source_pieces, source_pieces + 1, "CUE"),
                                            (source_pieces + 1, len(names) - 1, "CONTENT")}


def test_an_inside_label_without_its_beginning_still_makes_a_span() -> None:
    inside_content, begin_cue = PIECE_LABELS.index("I-CONTENT"), PIECE_LABELS.index("B-CUE")
    assert _spans([0, inside_content, inside_content, begin_cue, 0]) == {(1, 3, "CONTENT"), (3, 4, "CUE")}


def test_an_adapter_adds_its_low_rank_update_to_the_matrices_it_names(tmp_path) -> None:
    official = load_file(str(weights_dir() / "model.safetensors"))
    rng = np.random.default_rng(0)
    down = rng.normal(size=(2, official[QUERY].shape[1])).astype(np.float32)
    up = rng.normal(size=(official[QUERY].shape[0], 2)).astype(np.float32)
    adapter = tmp_path / "adapter.safetensors"
    save_file({f"{QUERY}.down": down, f"{QUERY}.up": up}, str(adapter))

    tuned = tuned_weights(weights_dir(), adapter)
    assert np.allclose(tuned[QUERY], official[QUERY] + up @ down)
    assert all(np.array_equal(tuned[name], official[name]) for name in official if name != QUERY)
    untuned = tuned_weights(weights_dir(), tmp_path / "absent.safetensors")
    assert all(np.array_equal(untuned[name], official[name]) for name in official)


def test_the_built_graph_is_named_after_its_adapter(tmp_path) -> None:
    first, second = tmp_path / "first.safetensors", tmp_path / "second.safetensors"
    save_file({f"{QUERY}.down": np.zeros((1, 384), np.float32), f"{QUERY}.up": np.zeros((384, 1), np.float32)}, str(first))
    save_file({f"{QUERY}.down": np.ones((1, 384), np.float32), f"{QUERY}.up": np.zeros((384, 1), np.float32)}, str(second))
    names = {builder_id(first), builder_id(second), builder_id(tmp_path / "absent.safetensors")}
    assert len(names) == 3


TUNING_STEP = """
import json
import sys
from pathlib import Path
from workers.pipeline.model import load_nlp
from workers.training.tune_encoder import RoleTuner, windows
text, gold, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
tuner = RoleTuner(windows(load_nlp()(text), gold), steps_per_epoch=1, epochs=2)
for _ in range(2):  # the first step is the warm-up's, at learning rate 0
    tuner.epoch()
tuner.save(Path(out))
"""


@pytest.mark.slow
def test_a_tuning_run_writes_an_update_for_every_matrix_of_every_layer(tmp_path) -> None:
    """The adapter's names are PyTorch's module names, which must be the official weights' names:
    a tuning run on one sentence, in the training environment (`make test` builds it), writes a
    non-zero update for each of the 36 matrices, and the graph's weights change by exactly that."""
    assert TRAINING_PYTHON.exists(), f"{TRAINING_PYTHON} is missing: `make test` or `make train` builds it"
    adapter = tmp_path / "adapter.safetensors"
    gold = gold_of(TEXT, source="Gladkov", cue="said", content="the bridge was shelled on Tuesday")
    subprocess.run([str(TRAINING_PYTHON), "-c", TUNING_STEP,
                    TEXT, json.dumps(gold), str(adapter)], cwd=REPO, check=True, timeout=600)

    factors = load_file(str(adapter))
    official = load_file(str(weights_dir() / "model.safetensors"))
    matrices = {key.removesuffix(".down") for key in factors if key.endswith(".down")}
    assert len(matrices) == 6 * 6 and len(factors) == 2 * len(matrices)
    tuned = tuned_weights(weights_dir(), adapter)
    for name in matrices:
        update = factors[f"{name}.up"] @ factors[f"{name}.down"]
        assert update.shape == official[name].shape and np.abs(update).max() > 0
        assert np.allclose(tuned[name] - official[name], update, atol=1e-6)


def test_the_service_environment_does_without_pytorch() -> None:
    """thinc imports torch whenever it is installed, into every worker: the training extra lives
    in its own environment, and this one (the service's, the benchmarks') must not have it."""
    assert importlib.util.find_spec("torch") is None
