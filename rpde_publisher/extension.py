"""``RPDE``: the Flask extension that registers feeds and serves them."""

from __future__ import annotations

import functools
import logging
import typing as t
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from flask import current_app
from flask import Flask
from flask_caching import Cache
from marshmallow import Schema
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy.orm import Mapper
from sqlalchemy.orm import Session

from .caching import PageCache
from .dataset.organisations import DatasetProvider
from .embedding import EmbedPath
from .errors import ConfigurationError
from .feed import build_feed
from .feed import Criterion
from .feed import Feed
from .feed import FeedRegistry
from .item_checks import configure_item_checks
from .ownership import OrganisationRule
from .production import feed_metrics
from .production import rate_limiter
from .production import read_sessions
from .registry import TableRegistry
from .sessions import SessionSource
from .settings import DEFAULTS
from .settings import Settings
from .tables import Ordering
from .tables import RenderAt

if t.TYPE_CHECKING:
    from .metrics import FeedMetrics
    from .ratelimit import RateLimiter

__all__ = ["RPDE", "AppState", "get_extension"]

logger = logging.getLogger("rpde_publisher")

_EXTENSION_KEY = "rpde_publisher"
_USE_DATA_COLUMN: t.Any = object()


@dataclass(frozen=True)
class AppState:
    """What the extension keeps for one app."""

    settings: Settings
    sessions: SessionSource
    cache: PageCache
    #: Where feed pages are read: a replica when configured, else ``sessions``.
    read_sessions: SessionSource
    metrics: FeedMetrics
    #: The per-client limit of :data:`RPDE_RATE_LIMIT`, if set.
    limiter: RateLimiter | None


class RPDE:
    """Publishes SQLAlchemy models as OpenActive RPDE feeds from a Flask app.

    .. code-block:: python

        rpde = RPDE()
        rpde.feed(SessionSeries, kind="SessionSeries", schema=SessionSeriesSchema())

        def create_app():
            app = Flask(__name__)
            db.init_app(app)
            rpde.init_app(app, session=db.session)
            return app

    :param app: Call :meth:`init_app` with this app now.
    :param session: A callable returning a SQLAlchemy ``Session``: Flask-SQLAlchemy's
        ``db.session``, a ``scoped_session`` or a ``sessionmaker``.
    :param cache: A flask-caching ``Cache`` for rendered pages. By default the extension
        makes its own from the app's ``CACHE_*`` config.
    :param read_session: Like ``session``, for reading feed pages only: a session factory
        bound to a read replica. Writes and change tracking stay on ``session``. Default:
        an engine on :data:`RPDE_READ_DATABASE_URI` if set, else ``session``.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        session: Callable[[], Session] | None = None,
        cache: Cache | None = None,
        read_session: Callable[[], Session] | None = None,
    ) -> None:
        self._session = session
        self._cache = cache
        self._read_session = read_session
        #: The registered feeds, by name.
        self.feeds = FeedRegistry()
        #: How each table the feeds publish is rendered and stored.
        self.tables = TableRegistry()
        self._apps: WeakKeyDictionary[Flask, AppState] = WeakKeyDictionary()
        #: The provider of per-organisation dataset sites, if one is registered with
        #: :meth:`dataset_provider`.
        self.organisation_sites: DatasetProvider | None = None
        if app is not None:
            self.init_app(app)

    def feed(
        self,
        model: type[t.Any],
        *,
        kind: str,
        schema: Schema | type[Schema],
        name: str | None = None,
        ordering: Ordering = "modified",
        modified: t.Any = None,
        deleted: t.Any = None,
        data: t.Any = _USE_DATA_COLUMN,
        render_at: RenderAt = "commit",
        publish_when: Criterion | None = None,
        embeds: Sequence[EmbedPath] = (),
        retention: t.Any = None,
        expires: t.Any = None,
        organisation: OrganisationRule | None = None,
        parent: EmbedPath | None = None,
    ) -> Feed:
        """Publish ``model``'s rows as a feed of ``kind`` items.

        :param model: A mapped class, usually with :class:`FeedMixin`.
        :param kind: The RPDE ``kind`` of every item, e.g. ``"SessionSeries"`` or
            ``"FacilityUse/Slot"``.
        :param schema: The marshmallow schema (instance or class) dumping an item's
            ``data``.
        :param name: The feed's URL name; OpenActive's default path for ``kind`` if
            omitted (``"session-series"``, ``"facility-use-slots"``, ...).
        :param ordering: ``"modified"`` for ``afterTimestamp``/``afterId`` paging, or
            ``"change_number"`` for ``afterChangeNumber`` paging.
        :param modified: The ``modified`` column, for a model without the mixin.
        :param deleted: The ``deleted`` column (NULL while live), likewise.
        :param data: The column storing rendered ``data``; ``None`` renders on every
            request instead.
        :param render_at: When the stored ``data`` is rendered: ``"commit"`` (each write
            renders its items before it commits) or ``"read"`` (a write only clears it;
            the first page read that shows the item renders and stores it). ``"read"``
            suits items written far more often than read, such as slots, whose every
            booking changes them; see docs/change-tracking.md.
        :param publish_when: A SQL criterion (or a function returning one): rows it
            rejects are published as tombstones, e.g. an organisation that opted out.
        :param embeds: Relationship paths whose rows appear in, or decide, an item:
            a change to such a row moves every item that reaches it, e.g.
            ``["place", "offers", "organisation"]`` or ``["series.organisation"]`` (a
            change to the series moves its items too, as does one to its organisation).
        :param retention: How long tombstones are kept (a timedelta or days);
            :data:`RPDE_TOMBSTONE_RETENTION` if omitted.
        :param expires: A column with each item's end time; ``flask rpde retire`` turns
            items past it into tombstones.
        :param organisation: Publish the feed per organisation too, at
            ``{RPDE_URL_PREFIX}/organisations/<key>/feeds/<name>`` (see
            :meth:`dataset_provider`): a column of the model's table holding each row's
            organisation key (``SessionSeries.organisation_id``), or a function from the key
            (a SQL bound parameter) to the criterion selecting that organisation's rows
            (``lambda key: ScheduledSession.series_id.in_(select(SessionSeries.id).where(
            SessionSeries.organisation_id == key))``).
        :param parent: For a feed of child items (sessions, slots): the many-to-one
            relationship to each item's parent (``"series"``, ``"facility_use"``), which a
            feed registered earlier on this ``RPDE`` publishes. An item is published as
            deleted while its parent is not a live item of that feed (deleted, retired,
            or rejected by its ``publish_when``), and moves whenever that can change, so
            consumers never hold a child whose ``superEvent`` or ``facilityUse`` matches no
            parent (an orphan, which fails OpenActive's registration). See
            docs/feeds.md.
        """
        feed = build_feed(
            model,
            kind=kind,
            schema=schema,
            name=name,
            ordering=ordering,
            modified=modified,
            deleted=deleted,
            data="rpde_data" if data is _USE_DATA_COLUMN else data,
            render_at=render_at,
            publish_when=publish_when,
            embeds=embeds,
            retention=retention,
            expires=expires,
            organisation=organisation,
            parent=parent,
            find_feeds=self._feeds_of,
        )
        mapper: Mapper[t.Any] = inspect(model)
        if mapper.configured:
            feed.parent_link()  # a wrong parent= is refused before the feed is registered
        rules = self.tables.with_feed(feed, render_at)
        self.feeds.add(feed)
        self.tables.add(rules)
        # A new table holds no item yet: what its items will be rendered with is current.
        event.listen(feed.spec.table, "after_create", functools.partial(_record_new, feed))
        if mapper.configured:
            feed.configure()
        else:  # embeds name relationships that exist once every mapper is configured
            event.listen(Mapper, "after_configured", feed.configure, once=True)
        return feed

    def _feeds_of(self, table: t.Any) -> list[Feed]:
        return [feed for feed in self.feeds if feed.spec.table is table]

    def dataset_provider(self, provider: DatasetProvider) -> DatasetProvider:
        """Give each organisation its own dataset site, with settings from ``provider``.

        Organisation ``key``'s site is served at ``{RPDE_URL_PREFIX}/organisations/<key>/``
        and the ``DataCatalog`` listing every site at ``{RPDE_URL_PREFIX}/data-catalog``.
        See :class:`~rpde_publisher.dataset.organisations.DatasetProvider`.

        :param provider: An object with ``keys()`` and ``metadata(key)`` methods.
        """
        if not isinstance(provider, DatasetProvider):
            raise ConfigurationError(
                f"A dataset provider needs keys() and metadata(key) methods, got {provider!r}."
            )
        self.organisation_sites = provider
        return provider

    def init_app(
        self,
        app: Flask,
        *,
        session: Callable[[], Session] | None = None,
        cache: Cache | None = None,
        read_session: Callable[[], Session] | None = None,
    ) -> None:
        """Register the feeds' blueprint and the ``flask rpde`` commands on ``app``.

        The arguments override those given to :class:`RPDE`.
        """
        if _EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "A 'RPDE' instance has already been registered on this Flask app. Import"
                " and use that instance instead."
            )
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        settings = Settings.from_config(app.config)
        configure_item_checks(self.tables.item_checks, app.config, testing=app.testing)
        factory = session or self._session
        if factory is None:
            raise ConfigurationError(
                "RPDE needs a session: pass session=db.session (Flask-SQLAlchemy), a"
                " scoped_session or a sessionmaker to RPDE() or init_app()."
            )
        sessions = SessionSource(factory)
        page_cache = PageCache.for_app(app, cache or self._cache, settings.cache_retry_seconds)
        self._apps[app] = AppState(
            settings=settings,
            sessions=sessions,
            cache=page_cache,
            read_sessions=read_sessions(settings, read_session or self._read_session, sessions),
            metrics=feed_metrics(app, settings, page_cache),
            limiter=rate_limiter(app, settings, page_cache),
        )
        app.extensions[_EXTENSION_KEY] = self

        from .cli import rpde_cli
        from .views import make_blueprint

        blueprint = make_blueprint(self, rate_limited=self._apps[app].limiter is not None)
        app.register_blueprint(blueprint, url_prefix=settings.url_prefix or None)
        app.cli.add_command(rpde_cli)
        if not (app.debug or app.testing or settings.base_url or app.config.get("TRUSTED_HOSTS")):
            logger.warning(
                "Neither RPDE_BASE_URL nor TRUSTED_HOSTS is set: feed and dataset-site URLs"
                " are built from each request's Host header, which any client chooses. Set"
                " RPDE_BASE_URL to the public origin, or TRUSTED_HOSTS to the app's names."
            )
        if app.config["RPDE_CHECK_AT_STARTUP"]:
            with app.app_context():
                self._log_setup_problems(sessions)

    def _log_setup_problems(self, sessions: SessionSource) -> None:
        """Log what is wrong with each feed's setup (missing columns or triggers, a schema
        or filter changed since the items were rendered), with the fix. A database that
        cannot be reached, or tables not created yet, are for later: nothing is said."""
        from .diagnosis import diagnose
        from .diagnosis import setup_problem

        for feed in self.feeds:
            try:
                with sessions.connection(feed.spec.table) as connection:
                    missing = setup_problem(connection, feed)
                    if missing is not None and missing.code == "table-missing":
                        continue  # create_all() may well come after init_app()
                    problems = diagnose(connection, feed)
            except Exception as exc:  # noqa: BLE001 - a start-up check must not stop the app
                logger.debug("Feed %r: setup not checked at start-up: %s", feed.name, exc)
                continue
            for problem in problems:
                log = logger.error if problem.severity == "error" else logger.warning
                log("%s", problem)

    def state(self, app: Flask | None = None) -> AppState:
        """The settings, sessions and cache this extension keeps for ``app``.

        :param app: Defaults to the current app.
        """
        app = app or t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
        try:
            return self._apps[app]
        except KeyError:
            raise RuntimeError(
                "The current Flask app is not registered with this 'RPDE' instance. Did"
                " you forget to call 'init_app', or did you create multiple 'RPDE'"
                " instances?"
            ) from None


def _record_new(feed: Feed, table: t.Any, connection: t.Any, **kw: t.Any) -> None:
    from .fingerprints import feed_fingerprints
    from .fingerprints import record

    record(connection, feed_fingerprints(feed))


def get_extension(app: Flask | None = None) -> RPDE:
    """The :class:`RPDE` registered on ``app`` (default: the current app)."""
    app = app or t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        return t.cast(RPDE, app.extensions[_EXTENSION_KEY])
    except KeyError:
        raise RuntimeError(
            "rpde_publisher is not initialised on this app: call rpde.init_app(app)."
        ) from None
