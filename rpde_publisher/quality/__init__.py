"""Data quality of a publisher's own feeds: the dashboard's figures and item checks."""

__all__: list[str] = []
