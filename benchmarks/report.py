"""Turn benchmark results into docs/performance.md, its plot, and a JSON copy of the figures."""

from __future__ import annotations

import json
import math
import statistics
import typing as t
from pathlib import Path

PLOT_NAME = "page-latency-by-depth.png"
DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


#: The last load test's figures, next to ``performance.json``.
LOAD_TEST_NAME = "load-test.json"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**pass**" if ok else "**miss**")


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def _paired(pairs: dict[str, tuple[float, float]], limit: float) -> tuple[str, bool]:
    """Each named (candidate ms, reference ms) pair as its ratio and figures, and whether
    every ratio is within ``limit``."""
    text = ", ".join(f"{name} {_x(c / r)} ({_ms(c)} vs {_ms(r)})" for name, (c, r) in pairs.items())
    return text, all(c / r <= limit for c, r in pairs.values())


def _library_and_view(library: dict[str, t.Any], view: dict[str, t.Any]) -> tuple[str, bool]:
    """A page's library call and Flask view against the floor's: the figures, and whether
    both are within the floor's cost."""
    return _paired(
        {
            "library": (library["candidate_ms"], library["reference_ms"]),
            "view": (view["candidate_ms"], view["reference_ms"]),
        },
        1.0,
    )


def _cells(results: dict[str, t.Any]) -> list[tuple[str, str, dict[str, tuple[str, bool | None]]]]:
    """(what, target, {database: (figure, passed)}) for each row of the table."""
    rows: list[tuple[str, str, dict[str, tuple[str, bool | None]]]] = []
    databases = results["databases"]
    items = results["items"]

    def each(
        build: t.Callable[[dict[str, t.Any]], tuple[str, bool | None]],
    ) -> dict[str, tuple[str, bool | None]]:
        return {name: build(figures) for name, figures in databases.items()}

    def last_first(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        view, library = f["pages"]["last_vs_first_view"], f["pages"]["last_vs_first_library"]
        ratio_view = view["candidate_ms"] / view["reference_ms"]
        ratio_library = library["candidate_ms"] / library["reference_ms"]
        text = (
            f"view {_x(ratio_view)} ({_ms(view['candidate_ms'])} vs {_ms(view['reference_ms'])});"
            f" library {_x(ratio_library)}"
        )
        return text, ratio_view <= 1.2 and ratio_library <= 1.2

    rows.append(
        (
            f"uncached page of 500 items, last page vs first page of a {items:,}-item feed",
            "<= 1.2x",
            each(last_first),
        )
    )

    def floor(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        pages = f["pages"]
        stored = pages["stored_floor_library"]
        text, holds = _library_and_view(pages["floor_library"], pages["floor_view"])
        stored_ratio = _x(stored["candidate_ms"] / stored["reference_ms"])
        text = f"last page: {text}; against SQL over the stored data: {stored_ratio}"
        if pages.get("tombstone_floor_view") is not None:
            tombstones, also = _library_and_view(
                pages["tombstone_floor_library"], pages["tombstone_floor_view"]
            )
            text += f"; a page of 500 tombstones: {tombstones}"
            holds = holds and also
        return text, holds

    rows.append(
        (
            "uncached page vs the floor: one hand-written keyset SQL query over the same table,"
            " rows turned into the same JSON with the standard library",
            "<= 1.0x",
            each(floor),
        )
    )

    def deep(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        deep = f["pages"]["deep_offset"]
        speedup = deep["candidate_ms"] / deep["reference_ms"]
        return (
            f"{speedup:.0f}x faster ({_ms(deep['reference_ms'])} vs {_ms(deep['candidate_ms'])})",
            speedup >= 20,
        )

    depth = next(iter(databases.values()))["pages"]["deep_position"] if databases else 0
    rows.append(
        (
            f"page at depth {depth:,} vs a Flask view with OFFSET/LIMIT and marshmallow over ORM"
            " objects",
            ">= 20x faster",
            each(deep),
        )
    )

    def cached(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        pages = f["pages"]
        in_process = pages["cached_rps"] / pages["bare_rps"]
        text = (
            f"in-process WSGI {_x(in_process)} ({pages['cached_rps']:,.0f} vs"
            f" {pages['bare_rps']:,.0f} req/s)"
        )
        http = f.get("cached_http")
        if http is None:
            return text + "; over HTTP: not measured (wrk missing)", in_process >= 0.8
        over_http = http.get("ratio") or http["cached_rps"] / http["bare_rps"]
        text = (
            f"over HTTP {_x(over_http)} ({http['cached_rps']:,.0f} vs {http['bare_rps']:,.0f}"
            f" req/s, wrk, gunicorn; median of {http.get('rounds', 'the')} rounds' ratios); " + text
        )
        return text, over_http >= 0.8

    rows.append(
        (
            "cached page served through flask-caching vs a bare Flask view returning the same"
            " bytes from memory",
            ">= 0.8x the throughput",
            each(cached),
        )
    )

    def harvest(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        runs = [
            f["harvest"][label]
            for label in ("large", "large_again", "large_third")
            if label in f["harvest"]
        ]
        middle = statistics.median(run["items_per_second"] for run in runs)
        text = f"median {middle:,.0f} items/s of " + ", ".join(
            f"{run['items_per_second']:,.0f} items/s ({run['pages']:,} pages in"
            f" {run['seconds']:.1f} s)"
            for run in runs
        )
        return text, middle >= 25_000

    rows.append(
        (
            f"full harvest of the {items:,}-item feed over HTTP (gunicorn, 2 workers, a consumer"
            " parsing every page)",
            ">= 25,000 items/s",
            each(harvest),
        )
    )

    def memory(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        large, small = f["harvest"]["large"], f["harvest"]["small"]
        ratio = large["peak_rss_mib"] / small["peak_rss_mib"]
        worker = large["peak_worker_rss_mib"] / small["peak_worker_rss_mib"]
        text = (
            f"{_x(ratio)} ({large['peak_rss_mib']:.0f} vs {small['peak_rss_mib']:.0f} MiB,"
            f" master and workers, no page cache); largest worker {_x(worker)}"
        )
        cached_large = f["harvest"].get("large_simple_cache")
        cached_small = f["harvest"].get("small_simple_cache")
        if cached_large and cached_small:
            text += (
                f"; with the default in-process SimpleCache"
                f" {_x(cached_large['peak_rss_mib'] / cached_small['peak_rss_mib'])}"
                f" ({cached_large['peak_rss_mib']:.0f} vs {cached_small['peak_rss_mib']:.0f} MiB)"
            )
        return text, ratio <= 1.2

    rows.append(
        (
            f"server memory while harvesting the {items:,}-item feed vs a"
            f" {results['small_items']:,}-item feed",
            "peak RSS <= 1.2x",
            each(memory),
        )
    )

    def quality(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        if "quality" not in f:
            return "not measured in this run", None
        large, small = f["quality"]["large"], f["quality"]["small"]
        ratio = large["peak_rss_mib"] / small["peak_rss_mib"]
        text = (
            f"{_x(ratio)} ({large['peak_rss_mib']:.0f} vs {small['peak_rss_mib']:.0f} MiB);"
            f" {large['items']:,} live items in {large['seconds']:.0f} s"
            f" ({large['items_per_second']:,.0f} items/s, every item checked)"
        )
        return text, ratio <= 1.2

    rows.append(
        (
            f"`flask rpde quality` over the {items:,}-item feed vs the"
            f" {results['small_items']:,}-item feed, in its own process",
            "peak RSS <= 1.2x",
            each(quality),
        )
    )

    def writes(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        w = f["writes"]
        update, insert = w["update"], w["insert"]
        ratio_update, ratio_insert = update[0] / update[1], insert[0] / insert[1]
        text = (
            f"booking (update) {_x(ratio_update)} ({_ms(update[0])} vs {_ms(update[1])});"
            f" new slot (insert) {_x(ratio_insert)} ({_ms(insert[0])} vs {_ms(insert[1])})"
        )
        if w.get("update_rendering_at_commit"):
            text += (
                f'; with `render_at="commit"` instead, booking'
                f" {_x(w['update_rendering_at_commit'] / update[1])}, new slot"
                f" {_x(w['insert_rendering_at_commit'] / insert[1])}"
            )
        if w.get("first_read_items"):
            first, again = w["first_read"]
            text += (
                f"; the first read of a page of {w['first_read_items']} slots written since"
                f" the last read {_ms(first)} ({_x(first / again)} the next read's {_ms(again)})"
            )
        return text, ratio_update <= 1.5 and ratio_insert <= 1.5

    rows.append(
        (
            'a write through the ORM with change tracking (slots: `render_at="read"`, the'
            " data stored by the first read) vs the same write with the toolkit off",
            "<= 1.5x",
            each(writes),
        )
    )

    def checked_writes(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        w = f["writes"]
        if not w.get("update_checked"):
            return "not measured in this run", None
        return _paired(
            {
                "booking": (w["update_checked"], w["update_rendering_at_commit"]),
                "new slot": (w["insert_checked"], w["insert_rendering_at_commit"]),
            },
            1.1,
        )

    rows.append(
        (
            'a tracked write rendering at commit (`render_at="commit"`) with the item checks at'
            ' `RPDE_ITEM_CHECKS="warn"` vs the same write with them off',
            "<= 1.1x",
            each(checked_writes),
        )
    )

    def embedded(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        e = f["embedded"]
        counts = sorted(int(count) for count in e["statements"])
        small, large = counts[0], counts[-1]
        statements = {count: _get(e["statements"], count) for count in counts}
        rerendered = {count: _get(e["rerendered"], count) for count in counts}
        per_parent = (statements[large] - statements[small]) / (large - small)
        kinds = _get(e["kinds"], large)
        updates = sum(n for kind, n in kinds.items() if kind.startswith("UPDATE session_series"))
        took = {count: _ms(_get(e["milliseconds"], count)) for count in counts}
        text = (
            f"{large:,} parents: {statements[large]} statements ({updates} UPDATE of"
            f" session_series carrying {rerendered[large]:,} rows), {took[large]};"
            f" {small:,} parents: {statements[small]} statements, {took[small]}"
        )
        ok = per_parent < 0.01 and updates == 1 and rerendered[large] == large
        return text, ok

    largest = max(int(count) for count in next(iter(databases.values()))["embedded"]["statements"])
    rows.append(
        (
            f"editing a place embedded in {largest:,} session series",
            "one statement's worth of work per parent, no N+1",
            each(embedded),
        )
    )

    def crowded(f: dict[str, t.Any]) -> tuple[str, bool | None]:
        c = f.get("crowded")
        if c is None:  # figures from before the row existed
            return "not measured", None
        ratio = c["crowded_ms"] / c["empty_ms"]
        statements = c["statements"]
        text = (
            f"{_x(ratio)} ({_ms(c['crowded_ms'])} vs {_ms(c['empty_ms'])}); sessions moved"
            f" by one add: {c['moved']:,}; statements: {statements['crowded']} vs"
            f" {statements['empty']}"
        )
        return text, ratio <= 1.2 and c["moved"] == 1

    crowds = [f["crowded"]["crowd"] for f in databases.values() if "crowded" in f]
    crowd = f"{crowds[0]:,}" if crowds else "10,000"
    rows.append(
        (
            f"adding one session to a series holding {crowd} sessions vs to an empty series,"
            " linked through the relationship (`session.series = series`, with a backref)",
            "<= 1.2x",
            each(crowded),
        )
    )
    return rows


def _get(mapping: dict[t.Any, t.Any], key: int) -> t.Any:
    return mapping[str(key)] if str(key) in mapping else mapping[key]


def write_plot(results: dict[str, t.Any], path: Path) -> None:
    """Page latency against depth, toolkit vs the OFFSET view, one panel per database."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    databases = results["databases"]
    figure, axes = plt.subplots(
        1, len(databases), figsize=(5.2 * len(databases), 3.8), squeeze=False, sharey=True
    )
    ordered = sorted(databases.items(), key=lambda item: list(DATABASE_NAMES).index(item[0]))
    for axis, (name, figures) in zip(axes[0], ordered, strict=True):
        curve = figures["pages"]["curve"]
        depths = [point[0] / 1000 for point in curve]
        axis.plot(
            depths, [p[2] for p in curve], "o-", color="#c0392b", label="OFFSET/LIMIT + marshmallow"
        )
        axis.plot(depths, [p[1] for p in curve], "o-", color="#2471a3", label="rpde_publisher")
        axis.set_yscale("log")
        axis.set_title(DATABASE_NAMES.get(name, name))
        axis.set_xlabel("depth (thousands of items before the page)")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("ms per uncached 500-item page (median)")
    axes[0][0].legend(loc="upper left", fontsize=8)
    figure.suptitle(f"Page latency by depth, {results['items']:,}-item feed", fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(results: dict[str, t.Any], output: Path) -> list[Path]:
    """Write ``performance.md``, the plot and ``performance.json`` under ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    plot = output / "images" / PLOT_NAME
    write_plot(results, plot)
    data = output / "performance.json"
    data.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    page = output / "performance.md"
    load_test = output / LOAD_TEST_NAME
    page.write_text(
        render_markdown(results, json.loads(load_test.read_text()) if load_test.exists() else None)
    )
    return [page, plot, data]


def render_markdown(results: dict[str, t.Any], load_test: dict[str, t.Any] | None = None) -> str:
    """The page: ``results`` against the targets, and the last ``make load-test``'s figures."""
    from .narrative import NARRATIVE

    names = sorted(results["databases"], key=lambda name: list(DATABASE_NAMES).index(name))
    header = "| what | target | " + " | ".join(DATABASE_NAMES.get(n, n) for n in names) + " |"
    lines = [header, "|" + " --- |" * (2 + len(names))]
    for what, target, cells in _cells(results):
        row = [what, target]
        for name in names:
            figure, ok = cells[name]
            row.append(f"{_verdict(ok)}: {figure}")
        lines.append("| " + " | ".join(row) + " |")
    machine = results["machine"]
    machine_lines = "\n".join(f"- {key}: {value}" for key, value in machine.items())
    load = (
        f"- load average (1 min) when the run began and ended: {results['load_before']:.1f},"
        f" {results['load_after']:.1f} on {machine['cores']} cores"
    )
    seeds = ", ".join(
        f"{DATABASE_NAMES.get(n, n)} {f['seed_seconds']:.0f} s"
        for n, f in results["databases"].items()
        if "seed_seconds" in f
    )
    return NARRATIVE.format(
        table="\n".join(lines),
        machine=machine_lines + "\n" + load,
        generated=results["generated"],
        items=f"{results['items']:,}",
        seeds=seeds or "reused from an earlier run",
        minutes=math.ceil(results.get("seconds", 0) / 60),
        plot=f"images/{PLOT_NAME}",
        quick=" (quick mode: small data, not the real figures)" if results["quick"] else "",
        load_test=_load_test_section(load_test),
    )


def _load_test_section(result: dict[str, t.Any] | None) -> str:
    if result is None:
        return f"Not measured yet: `make load-test` writes `{LOAD_TEST_NAME}` and this section."
    from loadtest.report import markdown

    settings = result["settings"]
    before, after = settings.get("load_average", ["?", "?"])
    return (
        f"Written by `make load-test` ({{doc}}`load-test` says what it does), run"
        f" {settings.get('generated', 'at an unrecorded time')} on this machine"
        f" ({settings.get('cores', '?')} cores, load average {before} when it began and"
        f" {after} when it ended), from `{LOAD_TEST_NAME}`:\n\n" + markdown(result)
    )
