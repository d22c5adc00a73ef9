"""Tools for tests, benchmarks and scripts; not part of the product (``movie_assets/`` never
imports them).

- :mod:`support.ports`: a free loopback port.
- :mod:`support.browser`: the dashboard in headless Chromium (selenium, a dev extra).
- :mod:`support.tmdb_faults`: the bundled TMDB server with fault injection and a request log.

Importable as ``support`` with ``tests/`` on ``sys.path``: pytest puts it there (the
``tests/conftest.py`` folder); ``bench/`` and ``scripts/`` insert it themselves.
"""
