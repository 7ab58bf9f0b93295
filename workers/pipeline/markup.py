"""Masks HTML remnants before parsing so tags never become claimants or split sentences.

Tags and entities are replaced by spaces of the same length, so every offset found in
the masked copy is an offset into the original text.
"""

from __future__ import annotations

import re

_MARKUP_RE = re.compile(r"<!--.{0,2000}?-->|<[/!]?[A-Za-z][^<>]{0,500}>|&(?:[a-z]{2,8}|#\d{1,6});")


def mask_markup(text: str) -> str:
    return _MARKUP_RE.sub(lambda m: " " * len(m.group()), text)
