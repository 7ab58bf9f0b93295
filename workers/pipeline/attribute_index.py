"""Finds the stock attribute ruler's matches by lookup instead of trying every pattern at every token.

The English model's ``attribute_ruler`` sets each token's coarse part of speech, morphology
and some lemmas with 179 one- and two-token patterns (one per fine-grained tag, and
exceptions for words such as "gon na" and "ai n't"). spaCy's ``Matcher`` tries every pattern
at every token, which made the ruler an eighth of the whole extraction's time. Here each
pattern is filed under an exact value its first token must have (its word, else its tag,
else its dependency), so a token tries only the patterns filed under its own values, and
the few with no such value. The ruler keeps applying the matches itself, in its own order;
only the matcher it calls is replaced, and only when every pattern uses constraints this
module knows (else spaCy's stays).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from spacy.attrs import DEP, IS_SPACE, LOWER, TAG
from spacy.language import Language
from spacy.strings import StringStore, get_string_id
from spacy.tokens import Doc

RULER = "attribute_ruler"
# The token attributes the patterns may test, in the column order of ``Doc.to_array``.
COLUMNS = {"LOWER": 0, "TAG": 1, "DEP": 2, "IS_SPACE": 3}
_ARRAY_ATTRS = [LOWER, TAG, DEP, IS_SPACE]
# The attributes whose exact value a pattern is filed under, the rarest value first.
FILED_BY = ("LOWER", "TAG", "DEP")
_FILED_COLUMNS = tuple(COLUMNS[attr] for attr in FILED_BY)

Row = tuple[int, ...]
Test = Callable[[Row], bool]
Entry = tuple[int, list[list[Test]]]  # a pattern: its match id and each token's tests


def _test(attr: str, value: Any, strings: StringStore) -> Test:
    """The test one constraint of a pattern token makes, as spaCy's ``Matcher`` makes it."""
    column = COLUMNS[attr]
    if isinstance(value, bool):
        return lambda row: bool(row[column]) is value
    if isinstance(value, str):
        wanted = get_string_id(value)
        return lambda row: row[column] == wanted
    (operator, operand), = value.items()
    if operator in ("IN", "NOT_IN"):
        ids = frozenset(get_string_id(v) for v in operand)
        inside = operator == "IN"
        return lambda row: (row[column] in ids) is inside
    if operator == "REGEX":
        regex = re.compile(operand)
        return lambda row: regex.search(strings[row[column]]) is not None
    raise ValueError(f"unsupported constraint {attr}: {value!r}")


def _filing_keys(token: dict[str, Any]) -> list[tuple[int, int]]:
    """The (column, value id) pairs a pattern's first token is filed under; none when it has no exact value."""
    for attr in FILED_BY:
        value = token.get(attr)
        if isinstance(value, str):
            return [(COLUMNS[attr], get_string_id(value))]
        if isinstance(value, dict) and list(value) == ["IN"]:
            return [(COLUMNS[attr], get_string_id(v)) for v in value["IN"]]
    return []


class _Filing:
    """Patterns filed under an exact value of their first token, and those that have none."""

    def __init__(self) -> None:
        self.filed: dict[tuple[int, int], list[Entry]] = defaultdict(list)
        self.unfiled: list[Entry] = []

    def add(self, entry: Entry, first_token: dict[str, Any]) -> None:
        keys = _filing_keys(first_token)
        for key in keys:
            self.filed[key].append(entry)
        if not keys:
            self.unfiled.append(entry)

    def candidates(self, row: Row) -> list[Entry]:
        """The patterns that may start at a token with ``row``, each at most once (a pattern is
        filed under one column only)."""
        found = [*self.unfiled]
        for column in _FILED_COLUMNS:
            found += self.filed.get((column, row[column]), ())
        return found


class IndexedMatcher:
    """Stands in for the ruler's ``Matcher``: the same (match id, start, end) triples, in any order."""

    def __init__(self, patterns: list[tuple[str, list[list[dict[str, Any]]]]], original: Any,
                 strings: StringStore) -> None:
        self.original = original
        self.filing = _Filing()
        for key, key_patterns in patterns:
            for pattern in key_patterns:
                if any(set(token) - set(COLUMNS) for token in pattern):
                    raise ValueError(f"unsupported pattern {pattern!r}")
                entry = (get_string_id(key), [[_test(a, v, strings) for a, v in token.items()] for token in pattern])
                self.filing.add(entry, pattern[0])

    def __call__(self, doc: Doc, *, allow_missing: bool = False, as_spans: bool = False) -> list[tuple[int, int, int]]:
        rows: list[Row] = [tuple(row) for row in doc.to_array(_ARRAY_ATTRS).tolist()]
        matches = []
        for start, row in enumerate(rows):
            for match_id, tokens in self.filing.candidates(row):
                end = start + len(tokens)
                if end <= len(rows) and all(test(rows[i]) for i, tests in zip(range(start, end), tokens)
                                            for test in tests):
                    matches.append((match_id, start, end))
        return matches

    def get(self, key: str) -> Any:
        """The ruler's patterns under ``key``, from spaCy's matcher (for the ruler's ``patterns``)."""
        return self.original.get(key)

    def __len__(self) -> int:
        return len(self.original)


def index_attribute_ruler(nlp: Language) -> Language:
    """Give ``nlp``'s attribute ruler an :class:`IndexedMatcher`, when its patterns allow one."""
    if RULER not in nlp.pipe_names:
        return nlp
    ruler = nlp.get_pipe(RULER)
    keys = [str(i) for i in range(len(ruler.attrs))]
    try:
        ruler.matcher = IndexedMatcher([(key, ruler.matcher.get(key)[1]) for key in keys], ruler.matcher,
                                       nlp.vocab.strings)
    except ValueError:
        pass  # a constraint spaCy's matcher knows and this one does not: keep spaCy's
    return nlp
