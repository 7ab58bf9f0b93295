"""The extraction pipeline: article text in, attributed claims out.

One module per stage; :mod:`workers.pipeline.extractor` runs them in order.
"""

from workers.pipeline.extractor import EXTRACTOR_VERSION, Extractor, get_extractor

__all__ = ["EXTRACTOR_VERSION", "Extractor", "get_extractor"]
