"""The sample article of ``seeds/``, which many tests extract."""

from __future__ import annotations

from support import REPO

SEED_FILE = REPO / "seeds" / "000_f811b88706461c54.txt"
SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")
