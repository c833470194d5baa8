"""Each organisation's dataset site and feeds, described from its ``Organisation`` row."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator
from collections.abc import Mapping

from flask import current_app
from sqlalchemy import select

from .models import db
from .models import Organisation


class OrganisationSites:
    """The dataset provider: organisations are keyed by their id (``/organisations/2/``).

    An organisation that publishes open data has a dataset site and is in the catalogue;
    one that opted out has neither, but keeps its feeds, where its items are tombstones.
    """

    def keys(self) -> Iterator[str]:
        query = select(Organisation.id).where(Organisation.publishes_open_data.is_(True))
        return (str(id_) for id_ in db.session.scalars(query.order_by(Organisation.id)))

    def metadata(self, key: str) -> Mapping[str, t.Any] | None:
        organisation = self._row(key)
        if organisation is None or not organisation.publishes_open_data:
            return None
        return {
            "RPDE_PUBLISHER_NAME": organisation.name,
            "RPDE_PUBLISHER_LEGAL_NAME": organisation.name,
            "RPDE_PUBLISHER_URL": organisation.url,
            # The demo rows have no logo column; a real system would store one.
            "RPDE_PUBLISHER_LOGO": organisation.url.rstrip("/") + "/logo.png",
            "RPDE_PUBLISHER_EMAIL": organisation.email,
            "RPDE_DATE_PUBLISHED": current_app.config["RPDE_DATE_PUBLISHED"],
        }

    def has_feeds(self, key: str) -> bool:
        return self._row(key) is not None

    @staticmethod
    def _row(key: str) -> Organisation | None:
        if not (key.isascii() and key.isdigit()) or len(key) > 18 or str(int(key)) != key:
            return None  # one spelling per organisation: "7", never "07"
        return db.session.get(Organisation, int(key))
