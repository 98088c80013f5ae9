"""``python -m benchmarks NAME [ARGS...]`` runs one benchmark (ARGS go to it); no NAME runs them all."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> int:
    available = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))
    if argv and argv[0] not in available:
        print(f"unknown benchmark {argv[0]!r}; choose one of {', '.join(available)}", file=sys.stderr)
        return 2
    runs = [(argv[0], argv[1:])] if argv else [(name, []) for name in available]
    for name, args in runs:
        print(f"== {name}")
        entry = importlib.import_module(f"benchmarks.{name}").main
        if inspect.signature(entry).parameters:
            entry(args)
        else:
            entry()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
