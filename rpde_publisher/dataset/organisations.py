"""Dataset sites per organisation: the provider hook a multi-organisation system implements."""

from __future__ import annotations

import re
import typing as t
from collections.abc import Iterable
from collections.abc import Mapping

__all__ = ["KEY_PATTERN", "DatasetProvider", "has_feeds", "is_valid_key"]

#: What an organisation key may look like: URL-safe, so it can be a path segment as is.
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$")


@t.runtime_checkable
class DatasetProvider(t.Protocol):
    """Gives each organisation of a booking system its own dataset site.

    Register one with :meth:`rpde_publisher.RPDE.dataset_provider`. Both methods run
    inside a request (or a ``flask rpde`` command), so they may use the app's database
    session.

    .. code-block:: python

        class OrganisationSites:
            def keys(self):
                return db.session.scalars(
                    select(Organisation.slug).where(Organisation.publishes_open_data)
                )

            def metadata(self, key):
                org = db.session.scalar(select(Organisation).filter_by(slug=key))
                if org is None or not org.publishes_open_data:
                    return None
                return {
                    "RPDE_PUBLISHER_NAME": org.name,
                    "RPDE_PUBLISHER_LEGAL_NAME": org.legal_name,
                    "RPDE_PUBLISHER_URL": org.url,
                    "RPDE_PUBLISHER_LOGO": org.logo_url,
                    "RPDE_PUBLISHER_EMAIL": org.email,
                }

        rpde.dataset_provider(OrganisationSites())

    A provider may also have ``has_feeds(key) -> bool``, used by per-organisation feeds
    (``rpde.feed(..., organisation=...)``): whether ``key`` is an organisation whose items
    are, or were, in the feeds. Answer ``True`` for an organisation that opted out, so its
    consumers keep receiving its items as tombstones. Without it, an organisation has feeds
    while :meth:`metadata` gives its site.
    """

    def keys(self) -> Iterable[str]:
        """The keys of every organisation that has a dataset site, for the catalogue.

        A key is the last segment of the site's URL: letters, digits, ``.``, ``_``,
        ``~`` and ``-``, at most 100 characters.
        """
        ...

    def metadata(self, key: str) -> Mapping[str, t.Any] | None:
        """Organisation ``key``'s dataset-site settings, or ``None`` if it has no site.

        The mapping uses the app's ``RPDE_*`` configuration keys (the publisher keys,
        the dataset name, description, keywords, languages, dates and links; not
        ``RPDE_LICENSE``). Platform and documentation keys it leaves out are inherited
        from the app's configuration; publisher keys are not.
        """
        ...


def is_valid_key(key: object) -> bool:
    """Whether ``key`` can name an organisation's site (checked before any lookup)."""
    return isinstance(key, str) and KEY_PATTERN.match(key) is not None


def has_feeds(provider: DatasetProvider, key: str) -> bool:
    """Whether organisation ``key`` has feeds: the provider's ``has_feeds(key)`` if it has
    one, else whether it has a dataset site."""
    method = getattr(provider, "has_feeds", None)
    if callable(method):
        return bool(method(key))
    return provider.metadata(key) is not None
