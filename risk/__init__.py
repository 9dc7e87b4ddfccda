"""Employer injury-risk library: schema, ingest, store, features, models and explanations.

This package is the bottom layer: it imports neither ``training`` nor ``api``
and reads no environment variables; callers pass paths and URLs explicitly.
"""

__version__ = "0.1.0"
