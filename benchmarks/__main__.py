"""Run every benchmark module with its small sizes: ``python -m benchmarks``."""

from __future__ import annotations

import importlib
import pkgutil

import benchmarks


def main() -> None:
    """Import each ``benchmarks.bench_*`` module and call ``main(SMALL_ARGS)``.

    A module without ``SMALL_ARGS`` is skipped, because its defaults are the
    full-size run, which takes minutes and gigabytes.
    """
    names = sorted(
        module.name
        for module in pkgutil.iter_modules(benchmarks.__path__)
        if module.name.startswith("bench_")
    )
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        small_args = getattr(module, "SMALL_ARGS", None)
        if small_args is None:
            print(f"== {name}: skipped, the module defines no SMALL_ARGS", flush=True)  # noqa: T201
            continue
        print(f"== {name} {' '.join(small_args)}", flush=True)  # noqa: T201
        module.main(list(small_args))


if __name__ == "__main__":
    main()
