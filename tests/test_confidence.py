"""The bootstrap over documents that puts an interval around a score."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support import REPO
from workers.training.confidence import FIGURES, intervals, main

SCORER = REPO.parent / "shared" / "eval" / "score.py"
SENTENCE = "The mayor said the bridge would reopen in May."


def mean_score(docs: list[dict[str, Any]]) -> dict[str, float]:
    """Every figure the mean of the documents' ``right`` (0 or 1), in percent."""
    value = 100 * sum(doc["right"] for doc in docs) / len(docs)
    return {name: value for name, _, _ in FIGURES}


def test_identical_documents_leave_no_spread():
    found = intervals(mean_score, [{"right": 1}] * 20, samples=200)
    assert all(values == (100.0, 100.0, 100.0) for values in found.values())


def test_the_interval_holds_the_score_and_repeats_with_its_seed():
    docs = [{"right": i % 3 != 0} for i in range(30)]  # two in three right
    found = intervals(mean_score, docs, samples=500, seed=1)
    point, low, high = found["e2e F1"]
    assert point == pytest.approx(200 / 3)
    assert 0 <= low < point < high <= 100
    assert intervals(mean_score, docs, samples=500, seed=1) == found


def document(i: int, with_claim: bool) -> dict[str, Any]:
    start = SENTENCE.index("the bridge")
    claim = {
        "source": {"start": 0, "end": 9, "text": "The mayor"},
        "cue": {"start": 10, "end": 14, "text": "said"},
        "content": {"start": start, "end": len(SENTENCE) - 1, "text": SENTENCE[start:-1]},
        "type": "indirect",
    }
    return {"id": f"doc-{i}", "source": "synthetic", "text": SENTENCE, "attributions": [claim] if with_claim else []}


@pytest.mark.skipif(not SCORER.exists(), reason="the corpus scorer ships with the evaluation data in ../shared")
def test_the_corpus_scorer_counts_each_resample(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    gold, predicted = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    gold.write_text("".join(json.dumps(document(i, True)) + "\n" for i in range(8)))
    predicted.write_text("".join(json.dumps(document(i, i < 4)) + "\n" for i in range(8)))  # half found
    main([str(gold), str(predicted), "--scorer", str(SCORER), "--samples", "300"])
    figures = json.loads(capsys.readouterr().out.splitlines()[-1])["figures"]
    point, low, high = figures["e2e F1"]
    assert point == pytest.approx(100 * 2 * 0.5 / 1.5, abs=0.01)  # P 1, R 0.5
    assert low < point < high
    assert figures["speaker"] == [100.0, 100.0, 100.0]


@pytest.mark.skipif(not SCORER.exists(), reason="the corpus scorer ships with the evaluation data in ../shared")
def test_a_paired_interval_is_of_the_difference_on_the_same_resamples(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    gold, half, whole = tmp_path / "gold.jsonl", tmp_path / "half.jsonl", tmp_path / "whole.jsonl"
    gold.write_text("".join(json.dumps(document(i, True)) + "\n" for i in range(8)))
    half.write_text("".join(json.dumps(document(i, i < 4)) + "\n" for i in range(8)))
    whole.write_text(gold.read_text())
    main([str(gold), str(half), "--scorer", str(SCORER), "--samples", "300", "--against", str(whole)])
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert out["paired"]
    point, low, high = out["figures"]["e2e F1"]
    assert point == pytest.approx(100 * 2 * 0.5 / 1.5 - 100, abs=0.01)
    assert low <= point <= high < 0
    assert out["figures"]["speaker"] == [0.0, 0.0, 0.0]
