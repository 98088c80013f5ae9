"""Benchmarks: ``python -m benchmarks NAME`` (or ``make bench`` for all). Each prints its figures and
the ratio against the baseline it beats; quote medians, the machines are noisy."""
