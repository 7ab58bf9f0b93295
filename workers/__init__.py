"""Claimwire workers: RQ job functions, the worker entry point, the extraction pipeline."""
