"""The ``RPDE_*`` configuration keys: their defaults and their validated form."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta

from .dataset.licences import open_licence
from .errors import ConfigurationError

__all__ = ["CC_BY_4", "DEFAULTS", "SPEC_MINIMUM_RETENTION", "Settings", "as_retention"]

CC_BY_4 = "https://creativecommons.org/licenses/by/4.0/"

#: Every configuration key the extension reads, with its default. ``init_app``
#: writes these into ``app.config`` with ``setdefault``; the docs list each one.
DEFAULTS: dict[str, t.Any] = {
    "RPDE_URL_PREFIX": "/openactive",
    "RPDE_BASE_URL": None,
    "RPDE_PAGE_SIZE": 500,
    "RPDE_LICENSE": CC_BY_4,
    "RPDE_CONTENT_TYPE": "application/json",
    "RPDE_MAX_AGE": 3600,
    "RPDE_LAST_PAGE_MAX_AGE": 8,
    "RPDE_DATASET_SITE_MAX_AGE": 900,
    "RPDE_SETTLE_SECONDS": 2.0,
    "RPDE_TOMBSTONE_RETENTION": timedelta(days=7),
    "RPDE_STATEMENT_TIMEOUT": 10.0,
    "RPDE_RETRY_AFTER": 60,
    "RPDE_CACHE_RETRY_SECONDS": 30.0,
    "RPDE_READ_DATABASE_URI": None,
    "RPDE_READ_ENGINE_OPTIONS": {},
    "RPDE_GZIP_LEVEL": 1,
    "RPDE_RATE_LIMIT": None,
    "RPDE_METRICS_TOKEN": None,
    "RPDE_METRICS_FLUSH_SECONDS": 1.0,
    "RPDE_CHECK_AT_STARTUP": True,
    # Item checks at each write (see rpde_publisher.item_checks): None is "error" under
    # app.testing, else "warn". The lists: a file or URL each; None, the official lists.
    "RPDE_ITEM_CHECKS": None,
    "RPDE_ACTIVITY_LIST": None,
    "RPDE_FACILITY_TYPES": None,
}

# Below this a consumer that polls once a week could miss a deletion (RPDE 1.0).
SPEC_MINIMUM_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class Settings:
    """The feed settings of one app, read once from its config by ``init_app``."""

    url_prefix: str
    base_url: str | None
    page_size: int
    license: str
    content_type: str
    max_age: int
    last_page_max_age: int
    dataset_site_max_age: int
    settle_seconds: float
    tombstone_retention: timedelta
    statement_timeout: float | None
    retry_after: int
    cache_retry_seconds: float
    #: Production settings (see docs/deployment.md).
    read_database_uri: str | None = None
    read_engine_options: t.Mapping[str, t.Any] = field(default_factory=dict)
    gzip_level: int = 1
    rate_limit: int | None = None
    metrics_token: str | None = None
    metrics_flush_seconds: float = 1.0

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """Validate the ``RPDE_*`` keys of ``config``; raise :exc:`ConfigurationError`."""
        prefix = str(config["RPDE_URL_PREFIX"] or "").rstrip("/")
        if prefix and not prefix.startswith("/"):
            raise ConfigurationError(
                f"RPDE_URL_PREFIX must start with '/', got {config['RPDE_URL_PREFIX']!r}."
            )
        base_url = config["RPDE_BASE_URL"]
        if base_url is not None:
            base_url = str(base_url).rstrip("/")
            if not base_url.startswith(("http://", "https://")):
                raise ConfigurationError(
                    "RPDE_BASE_URL must be an absolute http(s) URL such as"
                    f" 'https://data.example.com', got {config['RPDE_BASE_URL']!r}."
                )
        return cls(
            url_prefix=prefix,
            base_url=base_url,
            page_size=_positive_int(config, "RPDE_PAGE_SIZE", maximum=5000),
            license=open_licence(config["RPDE_LICENSE"]).url,
            content_type=str(config["RPDE_CONTENT_TYPE"]),
            max_age=_positive_int(config, "RPDE_MAX_AGE"),
            last_page_max_age=_positive_int(config, "RPDE_LAST_PAGE_MAX_AGE"),
            dataset_site_max_age=_positive_int(config, "RPDE_DATASET_SITE_MAX_AGE"),
            settle_seconds=_non_negative_float(config, "RPDE_SETTLE_SECONDS"),
            tombstone_retention=as_retention(
                config["RPDE_TOMBSTONE_RETENTION"], "RPDE_TOMBSTONE_RETENTION"
            ),
            statement_timeout=_non_negative_float(config, "RPDE_STATEMENT_TIMEOUT") or None,
            retry_after=_positive_int(config, "RPDE_RETRY_AFTER"),
            cache_retry_seconds=_non_negative_float(config, "RPDE_CACHE_RETRY_SECONDS"),
            **_production_settings(config),
        )


def as_retention(value: t.Any, name: str) -> timedelta:
    """A retention period from a :class:`~datetime.timedelta` or a number of days."""
    if isinstance(value, timedelta):
        retention = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        retention = timedelta(days=value)
    elif isinstance(value, str):
        try:
            retention = timedelta(days=float(value))
        except ValueError:
            raise ConfigurationError(
                f"{name} must be a timedelta or a number of days, got {value!r}."
            ) from None
    else:
        raise ConfigurationError(f"{name} must be a timedelta or a number of days, got {value!r}.")
    if retention <= timedelta(0):
        raise ConfigurationError(f"{name} must be positive, got {value!r}.")
    return retention


def _positive_int(config: t.Mapping[str, t.Any], key: str, maximum: int | None = None) -> int:
    try:
        value = int(config[key])
    except (TypeError, ValueError):
        raise ConfigurationError(f"{key} must be an integer, got {config[key]!r}.") from None
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum is not None else ""
        raise ConfigurationError(f"{key} must be at least 1{limit}, got {value}.")
    return value


def _non_negative_float(config: t.Mapping[str, t.Any], key: str) -> float:
    if config[key] is None:
        return 0.0
    try:
        value = float(config[key])
    except (TypeError, ValueError):
        raise ConfigurationError(f"{key} must be a number, got {config[key]!r}.") from None
    if value < 0:
        raise ConfigurationError(f"{key} must not be negative, got {value}.")
    return value


def _production_settings(config: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The keys for running behind a proxy with several workers (docs/deployment.md)."""
    config = {**DEFAULTS, **config}
    read_uri = config["RPDE_READ_DATABASE_URI"] or None
    if read_uri is not None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            read_uri = make_url(read_uri).render_as_string(hide_password=False)
        except ArgumentError:
            raise ConfigurationError(
                "RPDE_READ_DATABASE_URI must be a SQLAlchemy database URL such as"
                f" 'postgresql+psycopg://reader@replica/booking', got {read_uri!r}."
            ) from None
    options = config["RPDE_READ_ENGINE_OPTIONS"] or {}
    if not isinstance(options, t.Mapping):
        raise ConfigurationError(
            "RPDE_READ_ENGINE_OPTIONS must be a mapping of create_engine() arguments,"
            f" got {options!r}."
        )
    try:
        gzip_level = int(config["RPDE_GZIP_LEVEL"])
    except (TypeError, ValueError):
        gzip_level = -1
    if not 0 <= gzip_level <= 9:
        raise ConfigurationError(
            f"RPDE_GZIP_LEVEL must be 0 (off) to 9, got {config['RPDE_GZIP_LEVEL']!r}."
        )
    rate_limit = None
    if config["RPDE_RATE_LIMIT"] not in (None, 0, "", False):
        rate_limit = _positive_int(config, "RPDE_RATE_LIMIT")
    token = config["RPDE_METRICS_TOKEN"] or None
    if token is not None and (not isinstance(token, str) or len(token) < 16):
        raise ConfigurationError(
            "RPDE_METRICS_TOKEN must be a secret string of at least 16 characters"
            " (or None to turn /metrics off)."
        )
    return {
        "read_database_uri": read_uri,
        "read_engine_options": dict(options),
        "gzip_level": gzip_level,
        "rate_limit": rate_limit,
        "metrics_token": token,
        "metrics_flush_seconds": _non_negative_float(config, "RPDE_METRICS_FLUSH_SECONDS"),
    }
