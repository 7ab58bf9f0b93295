"""Parsing with bounded memory: long texts are parsed in paragraph-aligned chunks.

spaCy's parser needs memory in proportion to the text it holds at once and refuses texts
past ``nlp.max_length``; cutting at line breaks (else at whitespace, else anywhere) and
joining the parsed chunks with ``Doc.from_docs`` keeps time linear and offsets exact. Each
text is first rewritten by :func:`workers.pipeline.normalize.neutralise` (same length), so
no chunk holds a shape that costs the tokenizer quadratic time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from workers.pipeline.normalize import neutralise

CHUNK_CHARS = 20_000
# Characters parsed in one batch: the tagger's and parser's arrays for a batch are held at
# once, so a long text parsed in one batch took gigabytes.
BATCH_CHARS = 100_000


def chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Consecutive pieces of ``text`` of at most about ``size`` characters; ``"".join`` restores it."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > size:
        window = text[start:start + size]
        cut = window.rfind("\n")
        if cut < size // 2:
            cut = max(window.rfind(" "), window.rfind(". "))
        cut = cut + 1 if cut >= size // 2 else size
        pieces.append(text[start:start + cut])
        start += cut
    pieces.append(text[start:])
    return pieces


def parse_many(nlp: Language, texts: Iterable[str], batch_size: int = 32) -> Iterator[Doc]:
    """Parse each text, streaming the chunks of all texts through ``nlp.pipe`` in bounded batches.

    A doc's ``text`` is the neutralised copy: offsets hold against the original, the
    characters do not (cut spans from the original text).
    """

    def batches() -> Iterator[list[tuple[str, bool]]]:
        """Chunks, each flagged when it ends its text, in batches of ``batch_size`` and ``BATCH_CHARS``."""
        batch: list[tuple[str, bool]] = []
        size = 0
        for text in texts:
            parts = chunks(neutralise(text))
            for i, part in enumerate(parts):
                if batch and (len(batch) == batch_size or size + len(part) > BATCH_CHARS):
                    yield batch
                    batch, size = [], 0
                batch.append((part, i == len(parts) - 1))
                size += len(part)
        if batch:
            yield batch

    pending: list[Doc] = []
    for batch in batches():
        for doc, last in nlp.pipe(batch, as_tuples=True, batch_size=len(batch)):
            pending.append(doc)
            if last:
                yield pending[0] if len(pending) == 1 else Doc.from_docs(pending, ensure_whitespace=False)
                pending = []


def parse(nlp: Language, text: str) -> Doc:
    """Parse one text."""
    return next(parse_many(nlp, [text]))
