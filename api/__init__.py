"""Application layer: settings, the ``injury-risk`` CLI, the HTTP API and web pages."""
