"""The load test's figures as Markdown tables, for the console and for docs/performance.md."""

from __future__ import annotations

import typing as t

#: How the consumers' requests are named in Locust, and how the tables call them.
KINDS = {
    "harvest page": "harvest pages (up to 500 items each)",
    "last page poll": "last-page polls",
    "final walk": "final walks",
}


def markdown(result: dict[str, t.Any]) -> str:
    """The figures of one load-test run: the summary table, then latency by kind of request."""
    f, s = result["figures"], result["settings"]
    writes = sum(result["writes"].values())
    rows = [
        ("consumers (Locust users)", s["users"]),
        ("seconds of writes", f"{s['seconds']:g}"),
        ("gunicorn workers x threads", f"{s['workers']} x {s['threads']}"),
        ("changes committed by the simulators", f"{writes:,}"),
        ("requests/s (while writing)", f["requests_per_second"]),
        ("p50 latency (ms)", f["p50_ms"]),
        ("p99 latency (ms)", f["p99_ms"]),
        ("requests in all", f"{f['requests_total']:,}"),
        ("errors", f["failures"]),
        (
            "consumers whose copy differs from the database",
            f"{f['consumers_differing']} of {f['consumers']}",
        ),
        ("last-page polls", f"{f['last_page_polls']:,}"),
        ("origin renders of last pages", f["last_page_renders"]),
        ("origin renders per last-page poll", f["renders_per_last_page_poll"]),
        (
            "cache hits / requests at the origin",
            f"{f['server_cache_hits']:,} / {f['server_requests']:,}",
        ),
        ("304 answers", f"{f['server_304']:,}"),
        ("mean page render (ms)", f["mean_render_ms"]),
    ]
    lines = ["| figure | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    by_name = result.get("locust", {}).get("by_name", {})
    if by_name:
        lines += ["", "| requests | count | p50 (ms) | p99 (ms) |", "| --- | --- | --- | --- |"]
        for name, label in KINDS.items():
            entry = by_name.get(name)
            if entry:
                lines.append(
                    f"| {label} | {entry['requests']:,} | {entry['p50_ms']:g} |"
                    f" {entry['p99_ms']:g} |"
                )
    lines.append(f"\nverdict: {'PASS' if result['ok'] else 'FAIL'}")
    return "\n".join(lines)
