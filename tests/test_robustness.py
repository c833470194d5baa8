"""No request a client can send produces a 500 (property-based)."""

from __future__ import annotations

import typing as t

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

KEYS = st.sampled_from(["afterTimestamp", "afterId", "afterChangeNumber", "limit", "x", ""])
VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", "0", "-0", "1e5", "0x10", "NaN", "%", "%zz", "%00", "%C3%28", "+", "[]"]),
)
QUERIES = st.lists(st.tuples(KEYS, VALUES), max_size=5).map(
    lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
)
RAW = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FFF), max_size=60)
FEEDS = st.sampled_from(["session-series", "facility-uses", "events", "nope", "%00", "a" * 300])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(feed=FEEDS, query=st.one_of(QUERIES, RAW))
def test_arbitrary_query_strings_get_200_400_or_404(client: t.Any, feed: str, query: str) -> None:
    response = client.get(f"/openactive/feeds/{feed}?{query}")
    assert response.status_code in (200, 400, 404), (feed, query, response.data[:300])
    assert response.content_type == "application/json"
    assert response.get_json() is not None
