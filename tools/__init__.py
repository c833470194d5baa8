"""Maintainers' scripts: code generation from pinned upstream definitions."""
