"""HTTP routes, one router per resource; ``api.main`` includes them all."""
