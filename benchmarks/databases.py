"""The benchmark's own databases: SQLite files and PostgreSQL databases it creates and drops."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
#: Where SQLite files live (ignored by git).
WORKDIR = Path(os.environ.get("BENCH_WORKDIR", ROOT / ".bench"))
#: The PostgreSQL server; the benchmark only creates and drops databases named ``rpde_bench_*``.
POSTGRESQL_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DIALECTS = ("sqlite", "postgresql")
PREFIX = "rpde_bench_"
#: Appended to every database name, so that runs sharing a server never meet (tests set it).
SUFFIX = os.environ.get("BENCH_DATABASE_SUFFIX", "")


@dataclass(frozen=True)
class BenchDatabase:
    """One database the benchmark owns."""

    dialect: str
    name: str
    url: str

    def drop(self) -> None:
        drop_database(self)


def database(dialect: str, name: str) -> BenchDatabase:
    """The database ``name`` on ``dialect`` (not created yet)."""
    name += SUFFIX
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"bad benchmark database name {name!r}")
    if dialect == "sqlite":
        WORKDIR.mkdir(parents=True, exist_ok=True)
        return BenchDatabase(dialect, name, f"sqlite:///{WORKDIR / (PREFIX + name)}.sqlite3")
    if dialect == "postgresql":
        url = make_url(POSTGRESQL_ADMIN_URL).set(database=PREFIX + name)
        return BenchDatabase(dialect, name, url.render_as_string(hide_password=False))
    raise ValueError(f"unsupported benchmark database {dialect!r}; choose from {DIALECTS}")


def create_database(db: BenchDatabase) -> None:
    """Create ``db`` empty, dropping an older benchmark database of the same name first."""
    drop_database(db)
    if db.dialect == "postgresql":
        engine = create_engine(POSTGRESQL_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {PREFIX}{db.name}")
        engine.dispose()


def drop_database(db: BenchDatabase) -> None:
    """Remove ``db`` (only ever a database this module named)."""
    if db.dialect == "sqlite":
        path = Path(make_url(db.url).database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    name = PREFIX + db.name
    engine = create_engine(POSTGRESQL_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        )
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    engine.dispose()


def database_version(url: str) -> str:
    """The server's version string, for the report."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return "SQLite " + str(
                    connection.exec_driver_sql("select sqlite_version()").scalar()
                )
            version = str(connection.exec_driver_sql("show server_version").scalar())
            return f"PostgreSQL {version.split()[0]}"
    finally:
        engine.dispose()
