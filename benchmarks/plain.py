"""The example app's booking tables with the toolkit off: same columns, no triggers, no events.

``PlainSlot`` (and its parents) mirror ``Slot``'s table column for column, index for
index, on their own metadata and without :class:`~rpde_publisher.FeedMixin`: nothing
stamps, renders or tombstones them. rpde_publisher's session listeners are global, so they
still run on a flush of these objects, but find no feed table and do nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from rpde_publisher.columns import UTCDateTime


class PlainBase(DeclarativeBase):
    pass


class PlainOrganisation(PlainBase):
    __tablename__ = "plain_organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(200))
    publishes_open_data: Mapped[bool] = mapped_column(Boolean, default=True)


class PlainFacilityUse(PlainBase):
    __tablename__ = "plain_facility_use"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("plain_organisation.id"))
    place_id: Mapped[int] = mapped_column(Integer)
    facility_type_id: Mapped[str] = mapped_column(String(100))
    modified: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    rpde_data: Mapped[str | None] = mapped_column(Text, deferred=True)
    organisation: Mapped[PlainOrganisation] = relationship()


class PlainSlot(PlainBase):
    __tablename__ = "plain_slot"
    id: Mapped[int] = mapped_column(primary_key=True)
    facility_use_id: Mapped[int] = mapped_column(ForeignKey("plain_facility_use.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    maximum_uses: Mapped[int] = mapped_column(Integer, default=1)
    remaining_uses: Mapped[int] = mapped_column(Integer, default=1)
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    modified: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    rpde_data: Mapped[str | None] = mapped_column(Text, deferred=True)
    facility_use: Mapped[PlainFacilityUse] = relationship()

    __table_args__ = (Index("ix_plain_slot_order", "modified", "id"),)


Index("ix_plain_facility_use_order", PlainFacilityUse.modified, PlainFacilityUse.id)


def copy_booking_tables(connection: Connection) -> None:
    """Create the plain tables and fill them with the tracked tables' rows."""
    PlainBase.metadata.drop_all(connection)
    PlainBase.metadata.create_all(connection)
    for source, target in (
        ("organisation", "plain_organisation"),
        ("facility_use", "plain_facility_use"),
        ("slot", "plain_slot"),
    ):
        columns = ", ".join(
            connection.dialect.identifier_preparer.quote(column.name)
            for column in PlainBase.metadata.tables[target].columns
        )
        connection.exec_driver_sql(
            f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}"
        )
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{target}', 'id'),"
                f" (SELECT max(id) FROM {target}))"
            )
