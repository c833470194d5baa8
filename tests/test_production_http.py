"""Production HTTP features through the test client: ETags and 304, gzip, rate limit, health,
metrics, and feeds read from a separate read database."""

from __future__ import annotations

import gzip
import re
import time
import typing as t

import pytest
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from rpde_publisher import ConfigurationError
from rpde_publisher import RPDE
from rpde_publisher.caching import CachedPage
from rpde_publisher.caching import frame
from rpde_publisher.caching import unframe

from .models import make_app
from .models import Models
from .models import register_feeds

SERIES = "/openactive/feeds/session-series"
TOKEN = "a-metrics-token-of-some-length"


@pytest.fixture
def sqlite_tables(sqlite_engine: Engine, models: Models) -> Engine:
    models.Base.metadata.create_all(sqlite_engine)
    return sqlite_engine


def seed(engine: Engine, models: Models, count: int) -> None:
    with Session(engine) as session:
        session.add_all([models.Series(name=f"Swim {i}" * 10) for i in range(count)])
        session.commit()


def count_page_queries(engine: Engine) -> list[str]:
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM series" in statement:
            statements.append(statement)

    return statements


# Conditional requests and compression.


def test_etag_and_304_for_both_encodings(sqlite_tables: Engine, rpde: RPDE, models: Models) -> None:
    seed(sqlite_tables, models, 20)
    client = make_app(sqlite_tables, rpde, CACHE_TYPE="SimpleCache").test_client()
    plain = client.get(SERIES, headers={"Accept-Encoding": "identity"})
    zipped = client.get(SERIES, headers={"Accept-Encoding": "gzip, deflate"})
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data, "same content, two encodings"
    assert plain.headers["Vary"] == zipped.headers["Vary"] == "Accept-Encoding"
    assert re.fullmatch(r'"[0-9a-f]{32}"', plain.headers["ETag"])
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"', "a tag per encoding"
    assert len(zipped.data) < len(plain.data) / 3

    for response, encoding in ((plain, "identity"), (zipped, "gzip")):
        etag = response.headers["ETag"]
        again = client.get(SERIES, headers={"Accept-Encoding": encoding, "If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "public, max-age=3600"
        assert again.headers["Vary"] == "Accept-Encoding"
        assert "Set-Cookie" not in again.headers
    # The other encoding's tag does not validate this one; a weak form of the right one does.
    other = client.get(
        SERIES, headers={"Accept-Encoding": "identity", "If-None-Match": zipped.headers["ETag"]}
    )
    assert other.status_code == 200 and other.data == plain.data
    weak = client.get(
        SERIES,
        headers={"Accept-Encoding": "identity", "If-None-Match": "W/" + plain.headers["ETag"]},
    )
    assert weak.status_code == 304
    listed = client.get(SERIES, headers={"If-None-Match": f'"nope", {plain.headers["ETag"]}'})
    assert listed.status_code == 304
    # HEAD answers with the same validators.
    head = client.head(SERIES, headers={"Accept-Encoding": "gzip"})
    assert head.headers["ETag"] == zipped.headers["ETag"] and head.data == b""


def test_the_etag_changes_when_the_page_does(
    sqlite_tables: Engine, rpde: RPDE, models: Models
) -> None:
    # No cache: every request renders, so a change shows at once.
    client = make_app(sqlite_tables, rpde).test_client()
    empty = client.get(SERIES)
    assert client.get(SERIES, headers={"If-None-Match": empty.headers["ETag"]}).status_code == 304
    seed(sqlite_tables, models, 1)
    changed = client.get(SERIES, headers={"If-None-Match": empty.headers["ETag"]})
    assert changed.status_code == 200 and len(changed.get_json()["items"]) == 1
    assert changed.headers["ETag"] != empty.headers["ETag"]
    assert "Content-Encoding" not in changed.headers, "bodies under 1 KB are not compressed"


def test_gzip_q0_is_respected_and_star_accepted(
    sqlite_tables: Engine, rpde: RPDE, models: Models
) -> None:
    seed(sqlite_tables, models, 20)
    client = make_app(sqlite_tables, rpde).test_client()
    refused = client.get(SERIES, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers
    assert (
        client.get(SERIES, headers={"Accept-Encoding": "*"}).headers["Content-Encoding"] == "gzip"
    )


def test_gzip_level_zero_turns_compression_off(sqlite_engine: Engine) -> None:
    from .models import make_models

    models = make_models()
    models.Base.metadata.create_all(sqlite_engine)
    rpde = RPDE()
    register_feeds(rpde, models)
    seed(sqlite_engine, models, 20)
    client = make_app(sqlite_engine, rpde, RPDE_GZIP_LEVEL=0).test_client()
    response = client.get(SERIES, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers and "Vary" not in response.headers
    assert len(response.get_json()["items"]) == 20


def test_turning_gzip_off_stops_it_for_pages_already_cached(
    sqlite_tables: Engine, rpde: RPDE, models: Models, tmp_path: t.Any
) -> None:
    seed(sqlite_tables, models, 20)
    shared = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path)}
    before = make_app(sqlite_tables, rpde, **shared).test_client()
    zipped = before.get(SERIES, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    # Redeployed with compression off, on the same cache: the entries stay good.
    after = make_app(sqlite_tables, rpde, **shared, RPDE_GZIP_LEVEL=0)
    response = after.test_client().get(SERIES, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers and "Vary" not in response.headers
    assert response.data == gzip.decompress(zipped.data)
    assert zipped.headers["ETag"] == response.headers["ETag"][:-1] + '-gzip"'


def test_a_cached_page_is_hashed_and_compressed_once(
    sqlite_tables: Engine, rpde: RPDE, models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rpde_publisher.representation as representation

    seed(sqlite_tables, models, 20)
    calls = {"hash": 0, "gzip": 0}
    real_hash, real_gzip = representation.entity_tag, representation.gzip.compress

    def counting_hash(body: bytes) -> str:
        calls["hash"] += 1
        return real_hash(body)

    def counting_gzip(body: bytes, **kwargs: t.Any) -> bytes:
        calls["gzip"] += 1
        return real_gzip(body, **kwargs)

    monkeypatch.setattr(representation, "entity_tag", counting_hash)
    monkeypatch.setattr(representation.gzip, "compress", counting_gzip)
    client = make_app(sqlite_tables, rpde, CACHE_TYPE="SimpleCache").test_client()
    bodies = set()
    for encoding in ("gzip", "identity", "gzip", "identity", "br"):
        bodies.add(client.get(SERIES, headers={"Accept-Encoding": encoding}).data)
    assert len(bodies) == 2
    assert calls == {"hash": 1, "gzip": 1}


@pytest.mark.parametrize(
    ("backend", "checked"), [("FileSystemCache", True), ("SimpleCache", False)]
)
def test_hits_from_a_shared_store_are_checksummed_and_in_process_ones_not(
    sqlite_tables: Engine,
    rpde: RPDE,
    models: Models,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: t.Any,
    backend: str,
    checked: bool,
) -> None:
    import rpde_publisher.caching as caching

    seed(sqlite_tables, models, 20)
    client = make_app(
        sqlite_tables, rpde, CACHE_TYPE=backend, CACHE_DIR=str(tmp_path)
    ).test_client()
    first = client.get(SERIES, headers={"Accept-Encoding": "identity"})
    checksummed: list[int] = []
    real_crc32 = caching.zlib.crc32

    def counting_crc32(data: t.Any, *args: t.Any) -> int:
        checksummed.append(len(data))
        return real_crc32(data, *args)

    monkeypatch.setattr(caching.zlib, "crc32", counting_crc32)
    hit = client.get(SERIES, headers={"Accept-Encoding": "identity"})
    assert hit.data == first.data and hit.headers["ETag"] == first.headers["ETag"]
    # Checked: the identity body of the hit, not its gzipped form.
    assert checksummed == ([len(first.headers["ETag"]) - 2 + len(first.data)] if checked else [])


def test_without_a_page_cache_only_gzip_clients_pay_for_compression(
    sqlite_tables: Engine, rpde: RPDE, models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rpde_publisher.representation as representation

    seed(sqlite_tables, models, 20)
    compressed: list[int] = []
    real_gzip = representation.gzip.compress

    def counting_gzip(body: bytes, **kwargs: t.Any) -> bytes:
        compressed.append(len(body))
        return real_gzip(body, **kwargs)

    monkeypatch.setattr(representation.gzip, "compress", counting_gzip)
    client = make_app(sqlite_tables, rpde, CACHE_TYPE="NullCache").test_client()
    plain = client.get(SERIES, headers={"Accept-Encoding": "identity"})
    assert compressed == [], "nothing keeps the page and this client takes no gzip"
    zipped = client.get(SERIES, headers={"Accept-Encoding": "gzip"})
    assert len(compressed) == 1 and zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    assert plain.headers["Vary"] == zipped.headers["Vary"] == "Accept-Encoding"


def test_cache_entries_keep_tag_and_gzip_and_reject_damage() -> None:
    page = CachedPage.build(b'{"items": []}' * 200, is_last=False, gzip_level=6)
    assert page.gzipped is not None and gzip.decompress(page.gzipped) == page.body
    assert unframe(frame(page)) == page
    small = CachedPage(b"{}", True)
    assert unframe(frame(small)) == small and small.gzipped is None and small.etag
    whole = frame(page)
    for damaged in (whole[:-1], whole[:20], whole[:-3] + b"xyz", b"RPD1" + whole[4:]):
        assert unframe(damaged) is None


def test_a_hit_checks_the_part_it_sends() -> None:
    page = CachedPage.build(b'{"items": []}' * 200, is_last=False, gzip_level=1)
    whole = frame(page)
    assert page.gzipped is not None
    body_at = len(whole) - len(page.gzipped) - len(page.body)
    bad_body = whole[:body_at] + b"X" + whole[body_at + 1 :]
    bad_gzip = whole[:-1] + bytes([whole[-1] ^ 0xFF])
    assert unframe(bad_body, gzip=False) is None
    assert unframe(bad_gzip, gzip=True) is None
    # The other part is not about to be sent; the damaged one is caught when it is.
    assert unframe(bad_body, gzip=True) is not None
    assert unframe(bad_gzip, gzip=False) is not None
    assert unframe(bad_body) is None and unframe(bad_gzip) is None
    # What will not be sent is not handed out: a plain client gets no gzipped body.
    plain = unframe(whole, gzip=False)
    assert plain is not None and plain.gzipped is None and plain.body == page.body


# Rate limit.


def test_rate_limit_answers_429_with_retry_after(sqlite_tables: Engine, rpde: RPDE) -> None:
    app = make_app(sqlite_tables, rpde, RPDE_RATE_LIMIT=5)
    client = app.test_client()
    limiter = rpde.state(app).limiter
    assert limiter is not None and limiter.client is None, "counted in process"
    now = [1_000_000.2]
    limiter.clock = lambda: now[0]
    statuses = [client.get(SERIES).status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    limited = client.get(SERIES)
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["Cache-Control"] == "no-store"
    assert limited.get_json()["error"] == "rate_limited"
    other = client.get(SERIES, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200, "another client has its own allowance"
    now[0] = 1_000_000.9
    assert client.get(SERIES).status_code == 429, "still the same second"
    now[0] = 1_000_001.0
    assert client.get(SERIES).status_code == 200, "a new second, a new allowance"


def test_rate_limit_is_off_by_default(sqlite_tables: Engine, rpde: RPDE) -> None:
    client = make_app(sqlite_tables, rpde).test_client()
    assert all(client.get(SERIES).status_code == 200 for _ in range(40))


@pytest.mark.redis
def test_rate_limit_is_shared_through_redis(
    sqlite_tables: Engine, models: Models, redis_url: str
) -> None:
    import redis

    from .models import make_models

    config = {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": f"ratetest-{time.time_ns()}:",
        "RPDE_RATE_LIMIT": 6,
    }
    clients = []
    second = float(int(time.time()) + 5)  # a window no earlier run has counted in
    for _ in range(2):  # two apps stand for two workers
        extension = RPDE()
        other = make_models()
        register_feeds(extension, other)
        app = make_app(sqlite_tables, extension, **config)
        limiter = extension.state(app).limiter
        assert limiter is not None and limiter.client is not None, "counted in Redis"
        limiter.clock = lambda: second
        clients.append(app.test_client())
    statuses = [clients[i % 2].get(SERIES).status_code for i in range(10)]
    assert statuses.count(200) == 6 and statuses.count(429) == 4
    keys = redis.Redis.from_url(redis_url).keys(config["CACHE_KEY_PREFIX"] + "rpde:rate:*")
    assert keys and all(0 < redis.Redis.from_url(redis_url).ttl(key) <= 2 for key in keys), (
        "counters expire on their own"
    )


# Health and metrics.


def test_health_is_cheap_unless_asked(sqlite_tables: Engine, rpde: RPDE) -> None:
    app = make_app(sqlite_tables, rpde)
    queries: list[str] = []
    event.listen(sqlite_tables, "before_cursor_execute", lambda *a: queries.append(a[2]))
    client = app.test_client()
    response = client.get("/openactive/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert queries == [], "the cheap check touches no database"
    deep = client.get("/openactive/health?deep=1")
    assert deep.status_code == 200
    assert deep.get_json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert any("SELECT 1" in q for q in queries)


def test_deep_health_fails_when_the_database_does(
    tmp_path: t.Any, models: Models, rpde: RPDE
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/missing-dir/nope.db")
    client = make_app(engine, rpde).test_client()
    assert client.get("/openactive/health").status_code == 200
    deep = client.get("/openactive/health?deep=1")
    assert deep.status_code == 503
    assert deep.get_json()["checks"]["database"] == "unavailable"


def test_metrics_are_off_by_default_and_need_the_token(sqlite_tables: Engine, rpde: RPDE) -> None:
    client = make_app(sqlite_tables, rpde).test_client()
    assert client.get("/openactive/metrics").status_code == 404


def test_metrics_count_requests_hits_renders_and_lag(
    sqlite_tables: Engine, rpde: RPDE, models: Models
) -> None:
    seed(sqlite_tables, models, 3)
    client = make_app(
        sqlite_tables, rpde, CACHE_TYPE="SimpleCache", RPDE_METRICS_TOKEN=TOKEN
    ).test_client()
    assert client.get("/openactive/metrics").status_code == 401
    wrong = client.get("/openactive/metrics", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    first = client.get(SERIES).get_json()
    client.get(SERIES)
    client.get(first["next"].replace("http://localhost", ""))
    client.get(SERIES + "?afterTimestamp=x")
    response = client.get("/openactive/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    values = parse_metrics(response.get_data(as_text=True))
    feed = '{feed="session-series"}'
    assert values[f"rpde_requests_total{feed}"] == 4
    assert values[f"rpde_cache_hits_total{feed}"] == 1
    assert values['rpde_page_renders_total{feed="session-series",page="items"}'] == 1
    assert values['rpde_page_renders_total{feed="session-series",page="last"}'] == 1
    assert values['rpde_responses_total{feed="session-series",code="400"}'] == 1
    assert values[f"rpde_page_render_seconds_count{feed}"] == 2
    assert values['rpde_page_render_seconds_bucket{feed="session-series",le="+Inf"}'] == 2
    assert values['rpde_requests_total{feed="facility-uses"}'] == 0
    assert values[f"rpde_feed_hidden_changes{feed}"] == 0
    assert values["rpde_database_up"] == 1 and values["rpde_metrics_shared"] == 0


def parse_metrics(text: str) -> dict[str, float]:
    """Series -> value, checking every line is a comment or a well-formed sample."""
    values = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) rpde_\w+ ", line), line
            continue
        match = re.fullmatch(r"(rpde_\w+(?:\{[^}]*\})?) (-?[0-9.e+]+)", line)
        assert match, f"malformed sample line: {line!r}"
        values[match[1]] = float(match[2])
    return values


# A separate read database.


def test_feeds_read_through_read_session_and_writes_stay_on_the_primary(
    tmp_path: t.Any, models: Models, rpde: RPDE
) -> None:
    primary = create_engine(f"sqlite:///{tmp_path}/primary.db")
    replica = create_engine(f"sqlite:///{tmp_path}/replica.db")
    for engine in (primary, replica):
        models.Base.metadata.create_all(engine)
    seed(primary, models, 2)
    seed(replica, models, 5)  # a "replica" that differs, to see which one is read
    app = make_app(primary, rpde, read_session=sessionmaker(replica))
    primary_reads, replica_reads = count_page_queries(primary), count_page_queries(replica)
    body = app.test_client().get(SERIES).get_json()
    assert len(body["items"]) == 5
    assert len(replica_reads) == 1 and primary_reads == []
    with app.app_context():  # the app's own session (writes) is still the primary
        state = rpde.state(app)
        with state.sessions.session() as session:
            assert session.get_bind().url == primary.url


def test_read_database_uri_config(tmp_path: t.Any, models: Models, rpde: RPDE) -> None:
    primary = create_engine(f"sqlite:///{tmp_path}/primary.db")
    replica = create_engine(f"sqlite:///{tmp_path}/replica.db")
    for engine in (primary, replica):
        models.Base.metadata.create_all(engine)
    seed(replica, models, 4)
    app = make_app(
        primary,
        rpde,
        RPDE_READ_DATABASE_URI=f"sqlite:///{tmp_path}/replica.db",
        RPDE_READ_ENGINE_OPTIONS={"pool_pre_ping": True},
    )
    assert len(app.test_client().get(SERIES).get_json()["items"]) == 4
    deep = app.test_client().get("/openactive/health?deep=1").get_json()
    assert deep["checks"] == {"database": "ok", "read_database": "ok", "cache": "ok"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"RPDE_READ_DATABASE_URI": "not a url"}, "RPDE_READ_DATABASE_URI"),
        ({"RPDE_READ_ENGINE_OPTIONS": "pool_size=5"}, "RPDE_READ_ENGINE_OPTIONS"),
        ({"RPDE_GZIP_LEVEL": 11}, "RPDE_GZIP_LEVEL"),
        ({"RPDE_RATE_LIMIT": "fast"}, "RPDE_RATE_LIMIT"),
        ({"RPDE_RATE_LIMIT": -1}, "RPDE_RATE_LIMIT"),
        ({"RPDE_METRICS_TOKEN": "short"}, "RPDE_METRICS_TOKEN"),
        ({"RPDE_METRICS_FLUSH_SECONDS": -1}, "RPDE_METRICS_FLUSH_SECONDS"),
    ],
)
def test_bad_production_settings_stop_the_app(
    sqlite_tables: Engine, rpde: RPDE, config: dict[str, t.Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make_app(sqlite_tables, rpde, **config)


def test_read_session_and_read_uri_together_are_refused(
    sqlite_tables: Engine, rpde: RPDE, tmp_path: t.Any
) -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        make_app(
            sqlite_tables,
            rpde,
            read_session=scoped_session(sessionmaker(sqlite_tables)),
            RPDE_READ_DATABASE_URI=f"sqlite:///{tmp_path}/x.db",
        )
