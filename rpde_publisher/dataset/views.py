"""The dataset site's routes: the site, organisation sites, their catalogue, the stylesheet."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import typing as t
from collections.abc import Callable
from importlib import resources

from flask import Blueprint
from flask import current_app
from flask import Response
from flask import url_for
from flask.blueprints import BlueprintSetupState
from markupsafe import Markup

from ..conditional import accepts_gzip
from ..conditional import send_representation
from ..outages import DATABASE_UNAVAILABLE
from ..outages import is_outage
from ..responses import absolute_url
from ..responses import PublicResponse
from ..responses import retry_later
from .jsonld import catalog_jsonld
from .jsonld import dataset_jsonld
from .jsonld import script_json
from .licences import open_licence
from .organisations import is_valid_key
from .settings import DATASET_DEFAULTS
from .settings import DatasetSettings
from .site import build_site
from .site import DatasetSite
from .site import FeedLink
from .site import human_date

if t.TYPE_CHECKING:
    from ..extension import RPDE

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "STYLESHEET",
    "TEMPLATE",
    "dataset_settings",
    "feed_links",
    "register_dataset_routes",
]

logger = logging.getLogger("rpde_publisher")

_STATE_KEY = "rpde_publisher.dataset"
TEMPLATE = "rpde_publisher/dataset_site.html"
STYLESHEET = resources.files("rpde_publisher").joinpath("static", "dataset_site.css")

#: The page runs no script and loads nothing from other hosts; this keeps it so even if
#: a template override or a publisher's text tried otherwise.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none';"
    " form-action 'none'; frame-ancestors 'self'"
)


def register_dataset_routes(blueprint: Blueprint, extension: RPDE) -> None:
    """Add the dataset site's routes to the feeds' blueprint, and read its settings."""
    blueprint.record_once(_read_settings)

    @blueprint.get("/")
    def dataset_site() -> Response:
        settings = extension.state().settings
        url = absolute_url(settings.base_url, url_for(".dataset_site"))
        catalog_url = None
        if extension.organisation_sites is not None:
            catalog_url = absolute_url(settings.base_url, url_for(".data_catalog"))
        return _page(extension, url, lambda: _site(extension, url, dataset_settings(), catalog_url))

    @blueprint.get("/organisations/<key>/")
    def organisation_site(key: str) -> Response:
        provider = extension.organisation_sites
        if provider is None or not is_valid_key(key) or not _canonical(extension, key):
            return _not_found()
        settings = extension.state().settings
        url = absolute_url(settings.base_url, url_for(".organisation_site", key=key))
        catalog_url = absolute_url(settings.base_url, url_for(".data_catalog"))

        def build() -> DatasetSite | Response:
            try:
                metadata = provider.metadata(key)
            except DATABASE_UNAVAILABLE as exc:
                if not is_outage(exc):
                    raise
                logger.warning("The dataset provider could not read organisation %r: %s", key, exc)
                return _unavailable(settings.retry_after)
            if metadata is None:
                return _not_found()
            organisation_settings, _ = dataset_settings().for_organisation(metadata, key)
            return _site(extension, url, organisation_settings, catalog_url, organisation=key)

        # Cached like the app's own site: the provider is asked only when the page is made.
        return _page(extension, url, build)

    @blueprint.get("/data-catalog")
    def data_catalog() -> Response:
        provider = extension.organisation_sites
        if provider is None:
            return _not_found()
        settings = extension.state().settings
        url = absolute_url(settings.base_url, url_for(".data_catalog"))

        def document() -> bytes | Response:
            try:
                keys = list(provider.keys())
            except DATABASE_UNAVAILABLE as exc:
                if not is_outage(exc):
                    raise
                logger.warning("The dataset provider could not list organisations: %s", exc)
                return _unavailable(settings.retry_after)
            site_urls = []
            for key in dict.fromkeys(keys):
                if isinstance(key, int) and not isinstance(key, bool):
                    key = str(key)  # database ids are fine as keys
                if not is_valid_key(key):
                    logger.warning("Organisation key %r cannot be part of a URL; left out.", key)
                    continue
                site_urls.append(
                    absolute_url(settings.base_url, url_for(".organisation_site", key=key))
                )
            own = dataset_settings()
            name = own.data_catalog_name or (
                f"{own.publisher_name} Open Data" if own.publisher_name else "Open Data Catalogue"
            )
            catalog = catalog_jsonld(
                url=url,
                name=name,
                settings=own,
                licence=open_licence(settings.license),
                dataset_urls=site_urls,
            )
            return json.dumps(catalog, indent=2).encode("utf-8")

        # Cached like the sites: the provider lists every organisation only when it is made.
        return _cached(
            extension,
            "catalog:" + url,
            document,
            content_type="application/ld+json",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    @blueprint.get("/dataset-site.css")
    def dataset_stylesheet() -> Response:
        css, _ = _stylesheet()
        response = PublicResponse(css, content_type="text/css; charset=utf-8")
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


@functools.cache
def _stylesheet() -> tuple[bytes, str]:
    """The stylesheet and a short hash of it, which busts caches when it changes."""
    css = STYLESHEET.read_bytes()
    return css, hashlib.sha256(css).hexdigest()[:12]


def dataset_settings() -> DatasetSettings:
    """The current app's dataset-site settings, read once at start-up."""
    return t.cast(DatasetSettings, current_app.extensions[_STATE_KEY])


def _read_settings(state: BlueprintSetupState) -> None:
    """Apply the dataset defaults and check them while ``init_app`` runs."""
    config = state.app.config
    for key, value in DATASET_DEFAULTS.items():
        config.setdefault(key, copy.copy(value))
    state.app.extensions[_STATE_KEY] = DatasetSettings.from_config(config)


def feed_links(extension: RPDE, organisation: str | None = None) -> list[FeedLink]:
    """The registered feeds, with their URLs built exactly as the feed pages build them.

    :param organisation: An organisation's key: feeds published per organisation link to
        that organisation's feed; the others to the feed itself.
    """
    base_url = extension.state().settings.base_url
    return [
        FeedLink(
            name=feed.name,
            kind=feed.kind,
            feed_type=feed.feed_type,
            url=absolute_url(
                base_url,
                url_for(".feed_page", name=feed.name)
                if organisation is None or feed.organisation is None
                else url_for(".organisation_feed_page", key=organisation, name=feed.name),
            ),
        )
        for feed in extension.feeds
    ]


def _site(
    extension: RPDE,
    url: str,
    settings: DatasetSettings,
    catalog_url: str | None,
    organisation: str | None = None,
) -> DatasetSite:
    return build_site(
        url=url,
        settings=settings,
        licence=open_licence(extension.state().settings.license),
        feeds=feed_links(extension, organisation),
        catalog_url=catalog_url,
    )


def _canonical(extension: RPDE, key: str) -> bool:
    """Whether ``key`` is spelt as the per-organisation feeds take it (``"7"``, not
    ``"07"``): each organisation has one site URL, and its feed links never 404."""
    for feed in extension.feeds:
        if feed.organisation is not None and feed.organisation.key_value(key) is None:
            return False
    return True


def _page(extension: RPDE, url: str, build: Callable[[], DatasetSite | Response]) -> Response:
    """The dataset site at ``url`` (see :func:`_cached`); ``build`` may answer instead (a
    ``404`` or ``503``)."""

    def html() -> bytes | Response:
        site = build()
        if isinstance(site, Response):
            return site
        return _render(
            site=site,
            settings=site.settings,
            jsonld=Markup(script_json(dataset_jsonld(site))),
            stylesheet_url=url_for(".dataset_stylesheet", v=_stylesheet()[1]),
            human_date=human_date,
        ).encode("utf-8")

    return _cached(
        extension,
        "site:" + url,
        html,
        content_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


def _cached(
    extension: RPDE,
    key: str,
    make: Callable[[], bytes | Response],
    *,
    content_type: str,
    headers: dict[str, str],
) -> Response:
    """The document ``make`` gives, made once per ``RPDE_DATASET_SITE_MAX_AGE`` in the page
    cache (shared by every worker with Redis) and served with a strong ``ETag`` (so
    ``If-None-Match`` gets ``304``) and gzip when accepted. ``make`` may answer instead
    (a ``404`` or ``503``), which is not kept."""
    state = extension.state()
    max_age = state.settings.dataset_site_max_age
    sends_gzip = state.settings.gzip_level > 0 and accepts_gzip()
    cached = state.cache.get(key, gzip=sends_gzip)
    if cached is None:
        body = make()
        if isinstance(body, Response):
            return body
        cached = state.cache.keep(
            key,
            body,
            is_last=False,
            timeout=max_age,
            gzip_level=state.settings.gzip_level,
            gzip=sends_gzip,
        )
    return send_representation(
        cached.representation,
        content_type=content_type,
        cache_control=f"public, max-age={max_age}",
        response_class=PublicResponse,
        headers=headers,
        vary=state.settings.gzip_level > 0,
    )


def _render(**context: t.Any) -> str:
    """The page's HTML, without the app's context processors.

    One render is served to every visitor for ``RPDE_DATASET_SITE_MAX_AGE``, so nothing
    about the visitor may go into it; and Flask-Login's processor, loading
    ``current_user``, reads the session, for which Flask adds ``Vary: Cookie``. The
    template still has Flask's globals (``url_for``, ``config``, ``request``).
    """
    return current_app.jinja_env.get_or_select_template(TEMPLATE).render(context)


def _not_found() -> Response:
    return PublicResponse(
        "<!doctype html><title>Not found</title><p>There is no dataset site here.</p>",
        status=404,
        content_type="text/html; charset=utf-8",
    )


def _unavailable(retry_after: int) -> Response:
    response = PublicResponse(
        "<!doctype html><title>Unavailable</title>"
        "<p>This dataset site cannot reach its database right now; try again later.</p>",
        status=503,
        content_type="text/html; charset=utf-8",
    )
    return retry_later(response, retry_after)
