"""The rule lemmatizer's word lists as sets.

The English model's rule lemmatizer checks each candidate lemma it derives ("ministers" →
"minister") against the list of known words of its part of speech, and the model ships those
lists as lists: 57,528 nouns searched one by one, about 90 µs for each new word form. The
lemmatizer remembers the lemmas of inflected forms, so this cost comes back with every form
not seen before in the process, which is most of a new article's words. As sets the same
membership test takes constant time; nothing else reads the lists.
"""

from __future__ import annotations

from spacy.language import Language

LEMMATIZER = "lemmatizer"
INDEX_TABLE = "lemma_index"


def index_lemmas_as_sets(nlp: Language) -> Language:
    """Turn the lemmatizer's known-word lists, when it has them, into frozensets."""
    if LEMMATIZER not in nlp.pipe_names:
        return nlp
    lookups = nlp.get_pipe(LEMMATIZER).lookups
    if not lookups.has_table(INDEX_TABLE):
        return nlp
    table = lookups.get_table(INDEX_TABLE)
    for pos, words in list(table.items()):
        table[pos] = frozenset(words)
    return nlp
