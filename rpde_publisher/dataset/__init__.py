"""The dataset site: the page that tells people and machines who publishes the feeds, how."""

__all__: list[str] = []
