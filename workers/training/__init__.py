"""Training code for the pipeline's learned parts; reads annotated data from a path."""
