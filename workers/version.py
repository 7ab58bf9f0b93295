"""The extractor version: part of every article id, importable without loading spaCy."""

EXTRACTOR_VERSION = "0.10.5"
