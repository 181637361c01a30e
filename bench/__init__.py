"""Benchmarks of harness itself: ``make bench`` (see docs/benchmarks.md)."""
