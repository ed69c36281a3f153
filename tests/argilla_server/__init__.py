"""A real argilla-server 2.8.0 for tests: install (``install.py``), start and stop (``harness.py``)."""
