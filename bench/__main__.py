"""``python -m bench`` (``make bench``): the benchmarks. Not part of ``make test``.

Today one: the import benchmark (:mod:`bench.imports`); ``--rows`` for a quicker run.
"""

from bench.imports import main

if __name__ == "__main__":
    raise SystemExit(main())
