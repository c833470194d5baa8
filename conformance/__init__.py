"""Conformance checks with OpenActive's own validators (run by ``make test``)."""

from tests.offline import use_offline_lists

# The example app's item checks read the lists the Node validator is given.
use_offline_lists()
