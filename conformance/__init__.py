"""Conformance checks with OpenActive's own validators (run by ``make test``)."""
