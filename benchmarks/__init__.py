"""Benchmarks of the platform's heavy steps.

Each ``bench_*.py`` module has a ``main(argv)`` that runs its benchmark at the
full size by default, and a ``SMALL_ARGS`` list of arguments for a quick run.
``python -m benchmarks`` (``make bench``) runs every module's ``main`` with its
``SMALL_ARGS`` and skips modules that define none.
"""
