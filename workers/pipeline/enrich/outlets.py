"""The outlet a claim was reported through, found in its sentence outside the content.

"As reported by state news agency TASS, he claimed …", "X told Reuters", "according to a
report by the BBC", "in an interview with CNN", "state media reported", "said on Telegram".
A noun phrase counts as an outlet when it stands in one of these constructions (read off
the dependency parse) and looks like one: its head is a kind of outlet ("agency",
"newspaper", "state media") or one of its proper nouns is part of a known outlet's name
("Post", "Reuters"). After "reported by" or "published by" any name but a person's will do. The
claimant's own mention is never its outlet.
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from workers.claims import Claim, Span
from workers.pipeline.enrich.regions import Region, tokens_in

# Nouns that name a kind of outlet.
OUTLET_KINDS = frozenset({
    "agency", "newspaper", "paper", "daily", "weekly", "tabloid", "magazine", "media", "outlet",
    "network", "channel", "broadcaster", "television", "tv", "radio", "station", "website",
    "blog", "podcast", "wire", "news", "press", "show", "twitter", "facebook", "telegram",
    "instagram", "youtube", "tiktok", "weibo", "vkontakte",
})
# Words of outlets' proper names; they count when tagged as a proper noun.
OUTLET_NAME_WORDS = frozenset({
    "reuters", "ap", "afp", "bbc", "cnn", "msnbc", "cnbc", "fox", "nbc", "abc", "cbs", "npr", "pbs",
    "politico", "bloomberg", "axios", "vox", "buzzfeed", "huffpost", "huffington", "breitbart",
    "newsmax", "yahoo", "forbes", "fortune", "vogue", "newsweek", "economist", "guardian",
    "telegraph", "times", "post", "journal", "herald", "tribune", "globe", "gazette", "chronicle",
    "observer", "examiner", "inquirer", "courier", "beast", "insider", "atlantic", "yorker",
    "slate", "salon", "mediaite", "univision", "telemundo", "c-span", "siriusxm", "wsj", "nyt",
    "tass", "ria", "novosti", "interfax", "xinhua", "sputnik", "rt", "yonhap", "kyodo", "nhk",
    "dpa", "ansa", "efe", "ukrinform", "unian", "meduza", "kommersant", "izvestia", "pravda",
    "cctv", "jazeera", "spiegel", "bild", "monde", "figaro", "haaretz", "itv", "euronews", "dw",
    "voa",
})
# Words an outlet's preposition hangs on: "reported by", "told to", "interview with", "said on".
REPORTING_GOVERNORS = frozenset({
    "report", "publish", "broadcast", "air", "carry", "quote", "cite", "obtain", "reveal",
    "release", "post", "write", "tweet", "say", "speak", "talk", "tell", "comment", "remark",
    "statement", "interview", "conversation", "chat", "appearance", "appear", "accord",
    "explain", "confirm", "add", "claim", "announce", "article", "story", "piece", "column",
    "op-ed", "editorial", "letter", "footage", "video",
})
# Verbs after which any organisation named with "by" is the outlet: "first reported by X".
PUBLISHING_VERBS = frozenset({"report", "publish", "broadcast", "air"})
# Verbs whose subject is an outlet relaying a claim: "state media reported".
RELAYING_VERBS = frozenset({"report", "quote", "cite", "broadcast", "publish", "air", "carry", "say"})
OUTLET_PREPOSITIONS = frozenset({"by", "to", "with", "on", "in", "from"})
PHRASE_DEPS = frozenset({"det", "compound", "amod", "poss", "nmod", "case"})
WINDOW_TOKENS = 60  # how far from the content an outlet is looked for, each side


def find_outlet(doc: Doc, claim: Claim, regions: list[Region]) -> Span | None:
    """The first outlet phrase in the claim's sentence outside its content and claimant."""
    sentence = tokens_in(doc, claim.sentence.start, claim.sentence.end)
    if sentence is None or not regions:
        return None
    blocked = list(regions)
    if claim.claimant is not None:
        blocked.append((claim.claimant.start, claim.claimant.end))
    for tok in _outside(doc, sentence.start, sentence.end, regions):
        if not _is_outlet_slot(tok):
            continue
        phrase = doc[slice(*_phrase(tok))]
        s, e = phrase.start_char, phrase.end_char
        if not any(s < b and a < e for a, b in blocked):
            return Span(phrase.text, s, e)
    return None


def _outside(doc: Doc, first: int, last: int, regions: list[Region]) -> list[Token]:
    """Sentence tokens outside the content: a window each side and the gaps between parts."""
    inner = [tokens_in(doc, s, e) for s, e in regions]
    inner = [span for span in inner if span is not None]
    if not inner:
        return []
    ranges = [(max(first, inner[0].start - WINDOW_TOKENS), inner[0].start)]
    ranges += [(a.end, b.start) for a, b in zip(inner, inner[1:])]
    ranges.append((inner[-1].end, min(last, inner[-1].end + WINDOW_TOKENS)))
    return [doc[i] for a, b in ranges for i in range(max(a, first), min(b, last))]


def _is_outlet_slot(tok: Token) -> bool:
    """Whether ``tok`` heads an outlet phrase in one of the reporting constructions."""
    if tok.pos_ not in ("NOUN", "PROPN"):
        return False
    head = tok.head
    if tok.dep_ == "pobj" and head.lower_ in OUTLET_PREPOSITIONS:
        governor = head.head.lemma_.lower()
        if governor not in REPORTING_GOVERNORS:
            return False
        if head.lower_ == "by" and governor in PUBLISHING_VERBS and _is_name(tok):
            return True  # "as reported by Western Journalism"
        return _looks_like_outlet(tok)
    if tok.dep_ in ("dobj", "dative") and head.lemma_.lower() == "tell":
        return _looks_like_outlet(tok)
    if tok.dep_ == "nsubj" and head.lemma_.lower() in RELAYING_VERBS:
        return _looks_like_outlet(tok)
    return False


def _is_name(tok: Token) -> bool:
    """A proper name that is not a person's: after "reported by", an outlet's."""
    return tok.pos_ == "PROPN" and tok.ent_type_ != "PERSON"


def _looks_like_outlet(tok: Token) -> bool:
    if tok.lower_ in OUTLET_KINDS:
        return True
    start, end = _phrase(tok)
    return any(t.pos_ == "PROPN" and t.lower_ in OUTLET_NAME_WORDS for t in tok.doc[start:end])


def _phrase(tok: Token) -> tuple[int, int]:
    """Token range of the noun phrase ``tok`` heads, without clauses or prepositions after it;
    a name in apposition is kept ("state news agency TASS")."""
    start = min([c.left_edge.i for c in tok.lefts if c.dep_ in PHRASE_DEPS] + [tok.i])
    end = tok.i + 1
    for child in tok.rights:
        if child.dep_ in ("compound", "flat") or (child.dep_ == "appos" and child.pos_ == "PROPN"):
            end = max(end, _phrase(child)[1])
    return start, end
