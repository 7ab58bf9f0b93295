"""One blueprint per resource: articles, extract, health, docs."""
