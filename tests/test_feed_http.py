"""The feed endpoint over HTTP, on every database: walks, next URLs, headers, errors."""

from __future__ import annotations

import typing as t
from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from .walking import settle
from .walking import walk

FEED = "http://localhost/openactive/feeds/session-series"


def test_walk_sees_each_item_once_with_tombstones(
    tables: t.Any, rpde: t.Any, session: Session, models: t.Any
) -> None:
    from .models import make_app

    client = make_app(tables, rpde, RPDE_PAGE_SIZE=4).test_client()
    place = models.Place(name="Main pool")
    all_series = [models.Series(name=f"Swim {i}", place=place) for i in range(23)]
    session.add_all(all_series)
    session.commit()
    for series in all_series[:5]:
        session.delete(series)
    all_series[7].name = "Renamed"
    session.commit()
    settle(session.get_bind())

    result = walk(client, FEED)

    ids = [item["id"] for item in result.items]
    assert len(ids) == len(set(ids)) == 23, "each item exactly once"
    states = {item["id"]: item["state"] for item in result.items}
    assert [i for i, s in states.items() if s == "deleted"] == [s.id for s in all_series[:5]]
    assert result.copy[all_series[7].id]["name"] == "Renamed"
    assert set(result.copy) == {s.id for s in all_series[5:]}
    keys = [(item["modified"], item["id"]) for item in result.items]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize("page_size", [1, 4, 5, 500])
def test_ties_on_modified_are_split_across_pages(
    tables: t.Any, rpde: t.Any, models: t.Any, page_size: int
) -> None:
    from .models import make_app

    app = make_app(tables, rpde, RPDE_PAGE_SIZE=page_size)
    with Session(tables) as session:
        # PostgreSQL stamps every row of a transaction with its transaction id, so
        # they all share `modified` and only the id orders them.
        session.execute(insert(models.Series), [{"name": f"Row {i}"} for i in range(13)])
        session.commit()
    settle(tables)
    result = walk(app.test_client(), FEED)
    assert sorted(item["id"] for item in result.items) == list(range(1, 14))
    if tables.dialect.name == "postgresql":  # one transaction, one stamp: ties to split
        assert len({item["modified"] for item in result.items}) < 13
    for page in result.pages[:-1]:
        last = page["items"][-1]
        assert page["next"] == f"{FEED}?afterTimestamp={last['modified']}&afterId={last['id']}"


@pytest.mark.parametrize(
    "raw_id",
    [
        "plain",
        "a&b=c",
        "{c15814e5-8931-470c-8a16-ef45afedaece}",
        "one+two",
        "with space",
        "café/ünï",
        "100%",
        "?#",
    ],
)
def test_string_ids_round_trip_through_next(
    tables: t.Any, rpde: t.Any, models: t.Any, raw_id: str
) -> None:
    from .models import make_app

    app = make_app(tables, rpde, RPDE_PAGE_SIZE=1)
    with Session(tables) as session:
        session.add_all(
            [models.Facility(id=raw_id, name="Court"), models.Facility(id="zzz", name="Z")]
        )
        session.commit()
    settle(tables)
    client = app.test_client()
    first = client.get("/openactive/feeds/facility-uses").get_json()
    ids = [first["items"][0]["id"]]
    assert first["next"].endswith("&afterId=" + quote(first["items"][0]["id"], safe=""))
    result = walk(client, first["next"])
    ids += [item["id"] for item in result.items]
    assert sorted(ids) == sorted([raw_id, "zzz"])
    # The last page's next is its own URL, byte for byte.
    assert result.pages[-1]["next"] == result.last_url


def test_change_number_feed(client: t.Any, session: Session, models: t.Any, tables: t.Any) -> None:
    changes = [models.Change(name=f"c{i}") for i in range(7)]
    session.add_all(changes)
    session.commit()
    changes[0].name = "edited"
    session.commit()
    settle(tables)
    result = walk(client, "http://localhost/openactive/feeds/events")
    modified = [item["modified"] for item in result.items]
    assert modified == sorted(modified) and len(set(modified)) == 7, "unique, increasing"
    assert result.items[-1]["id"] == changes[0].id
    for page in result.pages[:-1]:
        assert page["next"].endswith(f"?afterChangeNumber={page['items'][-1]['modified']}")
    assert result.last_url.endswith(f"?afterChangeNumber={modified[-1]}")


def test_first_page_of_an_empty_feed_is_the_last_page(client: t.Any) -> None:
    response = client.get("/openactive/feeds/session-series")
    assert response.status_code == 200
    assert response.get_json() == {
        "next": FEED,
        "items": [],
        "license": "https://creativecommons.org/licenses/by/4.0/",
    }
    assert response.headers["Cache-Control"] == "public, max-age=8"


def test_response_headers_and_body_shape(
    client: t.Any, session: Session, models: t.Any, tables: t.Any
) -> None:
    series = models.Series(name="Aqua", offers=[models.Offer(price=Decimal("4.50"))])
    session.add(series)
    session.commit()
    settle(tables)
    response = client.get("/openactive/feeds/session-series")
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert "Set-Cookie" not in response.headers
    item = response.get_json()["items"][0]
    assert list(item) == ["state", "kind", "id", "modified", "data"]
    assert item["kind"] == "SessionSeries"
    assert item["data"] == {
        "id": series.id,
        "name": "Aqua",
        "place": None,
        "offers": [{"price": "4.50"}],
    }


def test_feed_responses_never_set_cookies(app: t.Any, client: t.Any) -> None:
    from flask import session as flask_session

    app.secret_key = "test"
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True

    @app.before_request
    def touch_session() -> None:
        flask_session["seen"] = True  # an app that writes its session on every request

    response = client.get("/openactive/feeds/session-series")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    # A client already holding a permanent session cookie gets no refresh either.
    app.config["PERMANENT_SESSION_LIFETIME"] = 3600
    client.set_cookie("session", "stale-value")
    again = client.get("/openactive/feeds/session-series", headers={"Accept-Encoding": "gzip"})
    assert "Set-Cookie" not in again.headers
    assert again.headers["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("afterTimestamp=5", "afterId"),
        ("afterId=5", "afterTimestamp"),
        ("afterTimestamp=abc&afterId=1", "afterTimestamp"),
        ("afterTimestamp=-1&afterId=1", "afterTimestamp"),
        ("afterTimestamp=1.5&afterId=1", "afterTimestamp"),
        ("afterTimestamp=99999999999999999999&afterId=1", "afterTimestamp"),
        ("afterTimestamp=9007199254740993&afterId=1", "afterTimestamp"),
        ("afterTimestamp=1&afterId=x", "afterId"),
        ("afterTimestamp=1&afterId=" + "9" * 40, "afterId"),
        ("afterChangeNumber=5", "afterChangeNumber"),
        ("afterTimestamp=1&afterTimestamp=2&afterId=1", "afterTimestamp"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_parameter(
    client: t.Any, query: str, parameter: str
) -> None:
    response = client.get(f"/openactive/feeds/session-series?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_parameter"
    assert body["parameter"] == parameter
    assert body["message"] and body["expected"]
    assert response.headers["Cache-Control"] == "no-store"


def test_each_feed_reads_a_query_string_by_its_own_rules_every_time(client: t.Any) -> None:
    """Cursors of recent query strings are kept per feed: the same query is valid for
    a feed with string ids and not for one with integer ids, and a refused query is
    refused again (nothing invalid is kept)."""
    query = "afterTimestamp=1&afterId=court-7"
    for _ in range(2):
        assert client.get(f"/openactive/feeds/facility-uses?{query}").status_code == 200
        refused = client.get(f"/openactive/feeds/session-series?{query}")
        assert refused.status_code == 400
        assert refused.get_json()["parameter"] == "afterId"
    page = client.get(f"/openactive/feeds/facility-uses?{query}").get_json()
    assert page["next"].endswith("?" + query), "an empty page after the cursor points at itself"


def test_timestamp_parameters_on_a_change_number_feed_are_refused(client: t.Any) -> None:
    response = client.get("/openactive/feeds/events?afterTimestamp=1&afterId=1")
    assert response.status_code == 400
    assert "afterChangeNumber" in response.get_json()["expected"]


def test_unknown_feed_is_a_json_404_listing_the_feeds(client: t.Any) -> None:
    response = client.get("/openactive/feeds/nope")
    assert response.status_code == 404
    assert response.get_json()["feeds"] == ["events", "facility-uses", "session-series"]


def test_base_url_setting_makes_next_absolute_on_that_host(
    tables: t.Any, rpde: t.Any, models: t.Any
) -> None:
    from .models import make_app

    app = make_app(tables, rpde, RPDE_BASE_URL="https://data.example.org/")
    body = app.test_client().get("/openactive/feeds/session-series").get_json()
    assert body["next"] == "https://data.example.org/openactive/feeds/session-series"


def test_proxy_headers_give_https_next_urls(tables: t.Any, rpde: t.Any, models: t.Any) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .models import make_app

    app = make_app(tables, rpde)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
    client = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "feeds.example.org"}
    url = "/openactive/feeds/session-series?afterTimestamp=7&afterId=3"
    body = client.get(url, headers=headers).get_json()
    assert body["next"] == "https://feeds.example.org" + url, "last page: next is itself"


def test_unrelated_parameters_are_ignored(client: t.Any) -> None:
    response = client.get("/openactive/feeds/session-series?limit=5&_=123")
    assert response.status_code == 200
    assert response.get_json()["next"] == FEED


@pytest.mark.parametrize("path", ["/openactive/feeds/session-series/", "/openactive/feeds/a/b"])
def test_other_paths_under_feeds_get_a_json_404(client: t.Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "unknown_feed"


def test_the_feed_index_lists_every_feed(client: t.Any) -> None:
    body = client.get("/openactive/feeds/").get_json()
    assert {feed["name"]: feed["url"] for feed in body["feeds"]} == {
        "session-series": FEED,
        "facility-uses": "http://localhost/openactive/feeds/facility-uses",
        "events": "http://localhost/openactive/feeds/events",
    }


def test_next_urls_follow_the_script_root_of_each_request(
    tables: t.Any, rpde: t.Any, models: t.Any
) -> None:
    from .models import make_app

    app = make_app(tables, rpde, RPDE_PAGE_SIZE=1)
    with Session(tables) as session:
        session.add_all([models.Series(name="One"), models.Series(name="Two")])
        session.commit()
    settle(tables)
    client = app.test_client()
    # The feed's path is remembered per script root: each mount point keeps its own.
    for script_root in ("", "/mounted", "", "/other/place", "/mounted"):
        body = client.get(
            "/openactive/feeds/session-series", base_url=f"http://localhost{script_root}"
        ).get_json()
        first = body["items"][0]
        assert body["next"] == (
            f"http://localhost{script_root}/openactive/feeds/session-series"
            f"?afterTimestamp={first['modified']}&afterId={first['id']}"
        )


def test_deleting_the_item_changed_last_reaches_a_consumer_past_it(
    tables: t.Any, rpde: t.Any, session: Session, models: t.Any
) -> None:
    from .models import make_app

    client = make_app(tables, rpde).test_client()
    first, last = models.Series(name="First"), models.Series(name="Last")
    session.add_all([first, last])
    session.commit()
    settle(tables)
    seen = walk(client, FEED)
    assert set(seen.copy) == {first.id, last.id}
    # `last` holds the newest stamp; deleting it must give it a newer one.
    session.delete(last)
    session.commit()
    settle(tables)
    after = walk(client, seen.last_url, copy=seen.copy)
    assert [(item["id"], item["state"]) for item in after.items] == [(last.id, "deleted")]
    assert set(after.copy) == {first.id}
