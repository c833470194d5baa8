"""What the toolkit is measured against: hand-written keyset SQL, OFFSET views, bare bytes.

Nothing here uses rpde_publisher. The floor is what a careful engineer would write by
hand for the slot feed: one keyset query over the slot table (joined to the
organisation, for the opt-out), rows turned into the feed's JSON with the standard
library. It produces the same bytes as the toolkit's page (checked before timing).
"""

from __future__ import annotations

import json
import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import UTC

from flask import Blueprint
from flask import request
from flask import Response
from sqlalchemy.engine import Engine

from .apps import BASE_URL
from .apps import FEED_PATH

KIND = "FacilityUse/Slot"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
ID_BASE = "https://leisure.example.org"
PAGE_SIZE = 500
#: The PostgreSQL watermark (rows of transactions still running stay hidden).
_PG_VISIBLE = "AND modified < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

_FLOOR = """
SELECT s.id, s.modified, s.deleted IS NULL AND o.publishes_open_data,
       s.facility_use_id, s.start, s."end", s.maximum_uses, s.remaining_uses, s.price,
       f.minimum_age
FROM (SELECT id, modified, deleted, facility_use_id, start, "end", maximum_uses,
             remaining_uses, price
      FROM slot WHERE {after} {visible}
      ORDER BY modified, id LIMIT {limit}) AS s
JOIN facility_use AS f ON f.id = s.facility_use_id
JOIN organisation AS o ON o.id = f.organisation_id
ORDER BY s.modified, s.id
"""
_STORED = """
SELECT s.id, s.modified, s.deleted IS NULL AND o.publishes_open_data, s.rpde_data
FROM (SELECT id, modified, deleted, facility_use_id, rpde_data
      FROM slot WHERE {after} {visible}
      ORDER BY modified, id LIMIT {limit}) AS s
JOIN facility_use AS f ON f.id = s.facility_use_id
JOIN organisation AS o ON o.id = f.organisation_id
ORDER BY s.modified, s.id
"""


def _sql(
    template: str, dialect: str, after: tuple[int, int] | None
) -> tuple[str, tuple[t.Any, ...]]:
    mark = "?" if dialect == "sqlite" else "%s"
    sql = template.format(
        # A careful engineer's keyset: unstamped rows (0) only need excluding at the start.
        after=f"(modified, id) > ({mark}, {mark})" if after else "modified > 0",
        visible=_PG_VISIBLE if dialect == "postgresql" else "",
        limit=PAGE_SIZE,
    )
    return sql, tuple(after or ())


def _when(value: t.Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)  # SQLite's text timestamps


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(delta: timedelta) -> str:
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    parts = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "PT" + (parts or "0S")


def _slot_data(
    id_: int,
    facility: int,
    start: t.Any,
    end: t.Any,
    uses: int,
    left: int,
    price: t.Any,
    minimum_age: int | None,
) -> dict[str, t.Any]:
    start, end = _when(start), _when(end)
    slot_url = f"{ID_BASE}/facility-uses/{facility}/slots/{id_}"
    offer = {
        "@type": "Offer",
        "@id": slot_url + "#offer",
        "name": "Standard hire",
        "price": float(price),
        "priceCurrency": "GBP",
    }
    if minimum_age is not None:  # the facility's, for those old enough to hire it
        offer["ageRestriction"] = {"@type": "QuantitativeValue", "minValue": minimum_age}
    return {
        "@context": "https://openactive.io/",
        "@type": "Slot",
        "@id": slot_url,
        "identifier": id_,
        "facilityUse": f"{ID_BASE}/facility-uses/{facility}",
        "startDate": _iso(start),
        "endDate": _iso(end),
        "duration": _duration(end - start),
        "maximumUses": uses,
        "remainingUses": left,
        "offers": [offer],
    }


def _next_url(feed_url: str, last: tuple[int, int] | None) -> str:
    return f"{feed_url}?afterTimestamp={last[0]}&afterId={last[1]}" if last else feed_url


def floor_page(
    dbapi_connection: t.Any, dialect: str, after: tuple[int, int] | None, feed_url: str
) -> bytes:
    """One page, by hand: keyset SQL, then ``json.dumps`` of dicts built from the columns."""
    sql, parameters = _sql(_FLOOR, dialect, after)
    cursor = dbapi_connection.cursor()
    cursor.execute(sql, parameters)
    items = []
    for id_, modified, live, facility, start, end, uses, left, price, age in cursor.fetchall():
        item: dict[str, t.Any] = {"state": "updated", "kind": KIND, "id": id_, "modified": modified}
        if live:
            item["data"] = _slot_data(id_, facility, start, end, uses, left, price, age)
        else:
            item["state"] = "deleted"
        items.append(item)
    cursor.close()
    last = (items[-1]["modified"], items[-1]["id"]) if items else after
    page = {"next": _next_url(feed_url, last), "items": items, "license": LICENSE}
    return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()


def stored_floor_page(
    dbapi_connection: t.Any, dialect: str, after: tuple[int, int] | None, feed_url: str
) -> bytes:
    """The least any page can cost: keyset SQL over the stored ``rpde_data``, joined as text."""
    sql, parameters = _sql(_STORED, dialect, after)
    cursor = dbapi_connection.cursor()
    cursor.execute(sql, parameters)
    rows = cursor.fetchall()
    cursor.close()
    head = f'"kind":"{KIND}"'
    parts = [
        f'{{"state":"updated",{head},"id":{id_},"modified":{modified},"data":{data}}}'
        if live
        else f'{{"state":"deleted",{head},"id":{id_},"modified":{modified}}}'
        for id_, modified, live, data in rows
    ]
    last = (rows[-1][1], rows[-1][0]) if rows else after
    next_url = _next_url(feed_url, last)
    body = f'{{"next":"{next_url}","items":[{",".join(parts)}],"license":"{LICENSE}"}}'
    return body.encode()


def floor_blueprint(engine: Engine) -> Blueprint:
    """The floor as a view (``/floor``) on ``engine``, for the app under test to register:
    in the same app, the floor's view and the toolkit's pay for the same app hooks."""
    blueprint = Blueprint("floor", __name__)
    dialect = engine.dialect.name
    feed_url = BASE_URL + FEED_PATH

    @blueprint.get("/floor")
    def floor() -> Response:
        after = None
        if "afterTimestamp" in request.args:
            try:
                after = (int(request.args["afterTimestamp"]), int(request.args["afterId"]))
            except (KeyError, ValueError):
                return Response('{"error":"bad cursor"}', 400, content_type="application/json")
        connection = engine.raw_connection()
        try:
            body = floor_page(connection.driver_connection, dialect, after, feed_url)
        finally:
            connection.close()
        return Response(body, content_type="application/json")

    return blueprint


def offset_blueprint() -> Blueprint:
    """What users would otherwise write: OFFSET/LIMIT, ORM objects, marshmallow."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from example_app.models import db
    from example_app.models import FacilityUse
    from example_app.models import Slot
    from example_app.schemas import slot as render_slot
    from rpde_publisher.openactive.models import item_schema

    blueprint = Blueprint("offset", __name__)
    schema = item_schema(render_slot)

    @blueprint.get("/offset/facility-use-slots")
    def offset_page() -> Response:
        page = request.args.get("page", 0, type=int)
        slots = db.session.scalars(
            select(Slot)
            .options(selectinload(Slot.facility_use).selectinload(FacilityUse.organisation))
            .where(Slot.modified > 0)
            .order_by(Slot.modified, Slot.id)
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        items = []
        for slot in slots:
            item: dict[str, t.Any] = {"state": "updated", "kind": KIND, "id": slot.id}
            item["modified"] = slot.modified
            if slot.deleted is None and slot.facility_use.organisation.publishes_open_data:
                item["data"] = schema.dump(slot)
            else:
                item["state"] = "deleted"
            items.append(item)
        next_url = f"{request.base_url}?page={page + 1}" if items else request.url
        body = json.dumps({"next": next_url, "items": items, "license": LICENSE})
        return Response(body, content_type="application/json")

    return blueprint
