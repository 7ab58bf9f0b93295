"""The cue lexicon gives each lemma one stance class."""

from __future__ import annotations

from unittest import mock

import pytest

from workers.pipeline import cues


def test_each_listed_lemma_has_the_stance_of_the_one_class_that_lists_it() -> None:
    listed = [(stance, word) for stance, words in cues._STANCE_WORDS.items() for word in words.split()]
    assert len(listed) == len(cues.STANCE_OF)
    assert all(cues.STANCE_OF[word] == stance for stance, word in listed)


def test_a_lemma_listed_in_two_classes_is_refused() -> None:
    twice = {"asserts": "say suggest", "suggests": "suggest"}
    with mock.patch.object(cues, "_STANCE_WORDS", twice):
        with pytest.raises(ValueError, match="'suggest' is listed under 'asserts' and 'suggests'"):
            cues._stance_of_lemmas()
