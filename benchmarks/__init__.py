"""Benchmarks of the feed engine against the references a careful engineer would write."""

from tests.offline import use_offline_lists

# The item checks look concepts up in the lists, as in production.
use_offline_lists()
