"""Claimant resolution: pronouns, surnames and descriptions to the named mention they refer to.

Deliberately light (no extra model): names resolve to the longest name in the article
sharing their last word ("Putin" -> "Vladimir Putin"); relative pronouns to the noun
they modify; personal pronouns to the most recent compatible claimant or entity; role
descriptions ("the Russian President", "the governor of ...") to the person named with
that role in the article, else to the most recent person claimant.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from workers.claims import MentionKind

_PERSON_PRONOUNS = frozenset({"he", "she", "him", "her"})
_GROUP_PRONOUNS = frozenset({"they", "them", "it", "we"})
_RELATIVE = frozenset({"who", "which", "that", "whom"})
_NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "FAC"})
_TITLES = frozenset("mr mr. mrs mrs. ms ms. dr dr. sen. rep. gov. president governor senator".split())
ROLE_NOUNS = frozenset("""
    president governor mayor minister secretary senator spokesman spokeswoman spokesperson
    chairman chairwoman chair leader chief director head candidate congressman congresswoman
    representative ambassador general commander official premier chancellor king queen
    prime nominee founder ceo owner judge attorney sheriff prosecutor official
""".split())


@dataclass(slots=True)
class Resolution:
    resolved: str
    kind: MentionKind
    is_person: bool


def mention_kind(head: Token) -> MentionKind:
    if head.pos_ == "PRON" or head.lower_ in _RELATIVE:
        return "pronoun"
    if head.pos_ == "PROPN" or head.ent_type_ in _NAME_LABELS:
        return "name"
    return "description"


class Resolver:
    """Resolves claimant mentions of one document, in text order."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.persons = [e for e in doc.ents if e.label_ == "PERSON"]
        self._person_ends = [e.end_char for e in self.persons]
        self.full_names: dict[str, str] = {}
        for ent in doc.ents:
            if ent.label_ in _NAME_LABELS:
                name = self._clean(ent.text)
                last = name.split()[-1].lower() if name.split() else ""
                if last and len(name) > len(self.full_names.get(last, "")):
                    self.full_names[last] = name
        self.recent: list[tuple[int, Resolution]] = []

    @staticmethod
    def _clean(name: str) -> str:
        words = name.replace("’s", "").replace("'s", "").split()
        while words and words[0].lower() in _TITLES:
            words = words[1:]
        return " ".join(words)

    def _name(self, text: str) -> str:
        clean = self._clean(text)
        words = clean.split()
        if not words:
            return text
        return self.full_names.get(words[-1].lower(), clean) if len(words) <= 2 else clean

    def _entity_text(self, token: Token) -> str | None:
        if not token.ent_type_:
            return None
        start = token.i
        while start > 0 and token.doc[start].ent_iob_ == "I":
            start -= 1
        end = token.i + 1
        while end < len(token.doc) and token.doc[end].ent_iob_ == "I":
            end += 1
        return token.doc[start:end].text

    def _last_person(self, before: int) -> str | None:
        for pos, res in reversed(self.recent):
            if pos < before and res.is_person:
                return res.resolved
        count = bisect_right(self._person_ends, before)
        return self._name(self.persons[count - 1].text) if count else None

    def _last_group(self, before: int) -> str | None:
        for pos, res in reversed(self.recent):
            if pos < before and not res.is_person and res.kind != "pronoun":
                return res.resolved
        return None

    def _role_holder(self, head: Token) -> str | None:
        """A person the article names with this role: "Gladkov, the governor", "President Putin"."""
        role = head.lemma_.lower()
        for person in self.persons:
            root = person.root
            near = [t for t in root.children if t.dep_ in ("appos", "compound")]
            near += [t for t in person if t.lower_ == role]
            if root.dep_ == "appos":
                near.append(root.head)
            if any(t.lemma_.lower() == role for t in near):
                return self._name(person.text)
        return None

    def resolve(self, head: Token, text: str) -> Resolution:
        kind = mention_kind(head)
        lower = head.lower_
        res: Resolution
        if kind == "pronoun" and lower in _RELATIVE and head.head.dep_ == "relcl":
            antecedent = head.head.head
            res = self.resolve(antecedent, antecedent.text)
            res = Resolution(res.resolved, "pronoun", res.is_person)
        elif kind == "pronoun" and lower in _PERSON_PRONOUNS:
            res = Resolution(self._last_person(head.idx) or text, kind, True)
        elif kind == "pronoun" and lower in _GROUP_PRONOUNS:
            res = Resolution(self._last_group(head.idx) or text, kind, False)
        elif kind == "name":
            res = Resolution(self._name(self._entity_text(head) or text), kind, head.ent_type_ == "PERSON")
        else:
            appos = next((c for c in head.children if c.dep_ == "appos" and c.ent_type_ == "PERSON"), None)
            holder = None
            if appos is not None:
                holder = self._name(self._entity_text(appos) or appos.text)
            elif head.lemma_.lower() in ROLE_NOUNS:
                holder = self._role_holder(head) or self._last_person(head.idx)
            res = Resolution(holder or text, kind, holder is not None)
        self.recent.append((head.idx, res))
        return res
