"""Benchmarks of the feed engine against the references a careful engineer would write."""
