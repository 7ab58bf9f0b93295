"""Claimwire web API: Flask app factory, configuration, Redis access."""
