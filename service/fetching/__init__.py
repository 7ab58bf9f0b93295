"""Fetching pages and calling webhooks without letting a URL reach what it must not (SSRF)."""
