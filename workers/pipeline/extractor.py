"""Runs the pipeline stages over one article (or a stream of them).

parse (with the role tagger) -> quotes -> rules -> outermost -> continuations -> joined
with the tagged claims -> claims (claimant resolution, type, sentence). Every stage works
on the one parsed ``Doc``; nothing is parsed twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache

from spacy.tokens import Doc

from workers.claims import Claim, Claimant, Content, Cue, Extraction, Sentence
from workers.pipeline import rules
from workers.pipeline.candidates import Candidate, outermost
from workers.pipeline.contents import QuoteIndex, quote_kind
from workers.pipeline.continuations import continuations, join_shared_cues
from workers.pipeline.coref import Resolver
from workers.pipeline.cues import stance_of
from workers.pipeline.lexicon import CueLexicon, load_lexicon
from workers.pipeline.enrich import enrich
from workers.pipeline.enrich import prepare as prepare_enrichment
from workers.pipeline.language import detect_language, load_identifier
from workers.pipeline.linking import combine, role_candidates
from workers.pipeline.markup import mask_markup
from workers.pipeline.model import load_nlp
from workers.pipeline.parse import parse_many
from workers.pipeline.quotes import find_quotes

from workers.version import EXTRACTOR_VERSION


def candidates(doc: Doc, quotes: QuoteIndex, lexicon: CueLexicon) -> list[Candidate]:
    """All outermost attributions of a parsed document: the rules' and the role tagger's, the
    whole quotes that share a cue joined into one claim (:func:`join_shared_cues`)."""
    joined = combine(doc, quotes, role_candidates(doc, quotes), rule_candidates(doc, quotes, lexicon))
    return outermost(join_shared_cues(outermost(joined), quotes))


def rule_candidates(doc: Doc, quotes: QuoteIndex, lexicon: CueLexicon) -> list[Candidate]:
    """The rules' outermost attributions, continued quotes merged in."""
    found = list(rules.verb_rules(doc, quotes, lexicon))
    found += rules.parentheticals(doc, quotes, lexicon)
    found += rules.according_to(doc, quotes)
    found += rules.colons(doc, quotes)
    found = outermost(found)
    found = outermost(found + list(rules.quote_speakers(doc, quotes, found)))
    continuations(doc, quotes, found)
    return outermost(found)


def build_claims(doc: Doc, lexicon: CueLexicon, text: str, published_at: datetime | None = None) -> list[Claim]:
    """Turn a document's candidates into claims with resolved claimants and enrichments.

    ``doc`` may be parsed from a masked copy of ``text`` (same length); spans are cut from ``text``.
    """
    quotes = QuoteIndex(text, find_quotes(text))
    resolver = Resolver(doc)
    claims: list[Claim] = []
    for cand in candidates(doc, quotes, lexicon):
        claimant = None
        overlaps = cand.source is not None and any(s < cand.source[1] and cand.source[0] < e for s, e in cand.parts)
        if cand.source is not None and cand.source_head is not None and not overlaps:
            s, e = cand.source
            res = resolver.resolve(cand.source_head, text[s:e])
            claimant = Claimant(text[s:e], s, e, resolved=res.resolved, kind=res.kind)
        cue = None
        if cand.cue is not None:
            cs, ce = cand.cue
            cue = Cue(text[cs:ce], cs, ce, lemma=cand.cue_lemma, stance=stance_of(cand.cue_lemma))
        start, end = cand.start, cand.end
        parts = list(cand.parts) if len(cand.parts) > 1 else []
        digest = hashlib.sha1(f"{start}:{end}:{cand.cue}".encode()).hexdigest()[:12]
        claim = Claim(
            id=digest,
            claimant=claimant,
            cue=cue,
            content=Content(text[start:end], start, end, parts=parts),
            type=quote_kind(text, cand.parts, quotes),
            sentence=Sentence(*cand.sentence),
        )
        enrich(claim, doc, published_at, text)
        claims.append(claim)
    return claims


class Extractor:
    """Article text in, :class:`Extraction` out. Holds the spaCy pipeline."""

    def __init__(self) -> None:
        self.nlp = load_nlp()
        self.lexicon = load_lexicon()
        prepare_enrichment()
        load_identifier()

    def extract(self, text: str, published_at: datetime | None = None) -> Extraction:
        """The claims of one article; ``published_at`` anchors relative dates ("on Tuesday")."""
        return next(self.extract_many([text], [published_at]))

    def extract_many(
        self, texts: Iterable[str], published: Iterable[datetime | None] | None = None
    ) -> Iterator[Extraction]:
        """The claims of many articles, parsed in batches; ``published`` gives each one's
        publication time, in step with ``texts`` (none given: no anchor for relative dates)."""
        originals: list[tuple[str, datetime | None]] = []

        def masked() -> Iterator[str]:
            times = iter(published) if published is not None else None
            for text in texts:
                originals.append((text, next(times) if times is not None else None))
                yield mask_markup(text)

        for doc in parse_many(self.nlp, masked()):
            text, published_at = originals.pop(0)
            language = detect_language(text)
            claims = build_claims(doc, self.lexicon, text, published_at)
            yield Extraction(detected_language=language, extractor_version=EXTRACTOR_VERSION, claims=claims)


@lru_cache(maxsize=1)
def get_extractor() -> Extractor:
    """The process-wide extractor; workers call this before forking or serving jobs."""
    return Extractor()
