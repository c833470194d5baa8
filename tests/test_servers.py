"""The test run can start its own PostgreSQL server where none is configured."""

from __future__ import annotations

import typing as t

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from . import servers
from .models import make_app
from .walking import walk


@pytest.mark.postgresql
def test_feeds_on_a_throwaway_postgresql_started_by_the_tests(models: t.Any, rpde: t.Any) -> None:
    try:
        server = servers.throwaway_postgresql_server()
    except servers.Unavailable as exc:
        pytest.skip(f"POSTGRESQL NOT TESTED: {exc}")
    try:
        url = server.create_database()
        engine = create_engine(url)
        models.Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all([models.Series(name=f"s{i}") for i in range(3)])
            session.commit()
        client = make_app(engine, rpde).test_client()
        items = walk(client, "http://localhost/openactive/feeds/session-series").items
        assert [item["id"] for item in items] == [1, 2, 3]
        assert server.admin_url.endswith(f":{server.throwaway.port}/postgres")  # type: ignore[union-attr]
        engine.dispose()
    finally:
        assert server.throwaway is not None
        server.throwaway.remove()
