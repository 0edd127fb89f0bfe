"""Benchmarks and the fault soak (``make bench``, ``make soak``); the soak also runs, short, in the
test suite (``tests/test_soak.py``)."""
