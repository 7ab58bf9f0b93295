"""Reading an article page's DOM (as served, or as Chromium rendered it) back into claims' spans."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

VOID_ELEMENTS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


class PageDom(HTMLParser):
    """The text of every element marking a claim's content, the tags used, and the document title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.contents: dict[str, list[str]] = {}
        self.content_counts: Counter[str] = Counter()
        self.open_contents: list[str] = []
        self.tags_in_text: Counter[str] = Counter()
        self.in_text = 0
        self.title = ""
        self.in_title = False
        self.root_attrs: dict[str, str | None] = {}
        self.body_attrs: dict[str, str | None] = {}
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.root_attrs = attributes
        if tag == "body":
            self.body_attrs = attributes
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "title":
            self.in_title = True
        if self.in_text:
            self.tags_in_text[tag] += 1
        if tag in VOID_ELEMENTS:
            return
        marker = attributes.get("data-content-of")
        if marker:
            self.content_counts[marker] += 1
            self.contents.setdefault(marker, [])
            self.open_contents.append(marker)
        if attributes.get("id") == "text":
            self.in_text += 1
        elif self.in_text:
            self.in_text += 1
        self.stack.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in VOID_ELEMENTS or not self.stack:
            return
        _, attributes = self.stack.pop()
        if attributes.get("data-content-of"):
            self.open_contents.remove(attributes["data-content-of"])
        if self.in_text:
            self.in_text -= 1

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        for marker in self.open_contents:
            self.contents[marker].append(data)

    def content_text(self, claim_id: str) -> str:
        return "".join(self.contents.get(claim_id, []))


def read_page(html: str) -> PageDom:
    dom = PageDom()
    dom.feed(html)
    dom.close()
    return dom
