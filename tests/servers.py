"""Database and cache servers for the tests: the configured ones, or throwaway ones.

Each service is read from an environment variable (defaults: the machine's standard
loopback servers). When nothing answers there, a throwaway server is started if its
binaries are installed; otherwise the tests that need it are skipped with a loud
message, which ``CI=true`` turns into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

POSTGRESQL_URL = os.environ.get(
    "RPDE_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MYSQL_URL = os.environ.get("RPDE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql")
REDIS_URL = os.environ.get("RPDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

PG_BIN_DIRS = [Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]


class Unavailable(Exception):
    """The service is not running and cannot be started here."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_binary(name: str) -> str | None:
    for directory in PG_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return shutil.which(name)


def _as_postgres_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class ThrowawayPostgreSQL:
    """A PostgreSQL cluster of our own, on a loopback port, removed by :meth:`stop`."""

    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls, extra_conf: str = "") -> ThrowawayPostgreSQL:
        initdb = _pg_binary("initdb")
        if initdb is None or _pg_binary("pg_ctl") is None:
            raise Unavailable("PostgreSQL's initdb/pg_ctl are not installed")
        directory = Path(tempfile.mkdtemp(prefix="rpde-pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")
        server = cls(directory, free_port())
        subprocess.run(
            _as_postgres_user([initdb, "-D", str(server.data), "-A", "trust", "-U", "postgres"]),
            check=True,
            capture_output=True,
        )
        conf = f"\nport = {server.port}\nlisten_addresses = '127.0.0.1'\n"
        conf += f"unix_socket_directories = '{directory}'\nfsync = off\n{extra_conf}"
        with open(server.data / "postgresql.conf", "a") as handle:
            handle.write(conf)
        server.start()
        return server

    def pg_ctl(self, *args: str) -> None:
        pg_ctl = _pg_binary("pg_ctl")
        assert pg_ctl
        subprocess.run(
            _as_postgres_user([pg_ctl, "-D", str(self.data), "-w", "-t", "60", *args]),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self.pg_ctl("-l", str(self.directory / "server.log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)

    def start_replica(self) -> ThrowawayPostgreSQL:
        """A hot standby streaming from this server (``pg_basebackup -R``), started.

        initdb's trust rules already admit replication connections from loopback, and
        PostgreSQL 10+ defaults to ``wal_level = replica`` with WAL senders to spare.
        """
        basebackup = _pg_binary("pg_basebackup")
        if basebackup is None:
            raise Unavailable("PostgreSQL's pg_basebackup is not installed")
        directory = Path(tempfile.mkdtemp(prefix="rpde-pg-replica-"))
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")
        replica = ThrowawayPostgreSQL(directory, free_port())
        subprocess.run(
            _as_postgres_user(
                [basebackup, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
                + ["-D", str(replica.data), "-R", "-X", "stream", "-c", "fast"]
            ),
            check=True,
            capture_output=True,
        )
        # The copied postgresql.conf names the primary's port and socket: later lines win.
        conf = f"\nport = {replica.port}\nunix_socket_directories = '{directory}'\n"
        conf += "hot_standby = on\n"
        with open(replica.data / "postgresql.conf", "a") as handle:
            handle.write(conf)
        replica.start()
        return replica


def _answers(url: str) -> bool:
    from sqlalchemy import create_engine
    from sqlalchemy import text

    engine = create_engine(url, connect_args=_connect_timeout(url))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _connect_timeout(url: str) -> dict[str, int]:
    if url.startswith("postgresql"):
        return {"connect_timeout": 3}
    if url.startswith("mysql"):
        return {"connect_timeout": 3}
    return {}


@dataclass
class DatabaseServer:
    """A reachable server and the admin URL to create databases with."""

    admin_url: str
    throwaway: ThrowawayPostgreSQL | None = None

    def create_database(self, prefix: str = "rpde_test") -> str:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        engine.dispose()
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            if self.admin_url.startswith("postgresql"):
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    f" WHERE datname = '{name}'"
                )
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            else:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        engine.dispose()


def postgresql_server() -> DatabaseServer:
    """The configured PostgreSQL, else a throwaway one, else :exc:`Unavailable`.

    ``RPDE_TEST_POSTGRESQL=throwaway`` always starts a throwaway server.
    """
    if os.environ.get("RPDE_TEST_POSTGRESQL") != "throwaway" and _answers(POSTGRESQL_URL):
        return DatabaseServer(POSTGRESQL_URL)
    return throwaway_postgresql_server()


def throwaway_postgresql_server(extra_conf: str = "") -> DatabaseServer:
    """A new PostgreSQL cluster of our own (initdb + pg_ctl), or :exc:`Unavailable`."""
    server = ThrowawayPostgreSQL.create(extra_conf)
    for _ in range(50):
        if _answers(server.url):
            return DatabaseServer(server.url, throwaway=server)
        time.sleep(0.2)
    server.remove()
    raise Unavailable("a throwaway PostgreSQL did not start")


def wait_for_replay(primary_url: str, replica_url: str, timeout: float = 60) -> None:
    """Wait until the standby at ``replica_url`` has replayed all the primary's WAL so far.

    The target is the insert position, not the write position: a rollback's abort record
    is not flushed at once, and until the standby replays it the transaction still counts
    as running there, holding the feed's watermark below every later commit.
    """
    from sqlalchemy import create_engine
    from sqlalchemy import text

    primary, replica = create_engine(primary_url), create_engine(replica_url)
    try:
        with primary.connect() as connection:
            target = connection.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with replica.connect() as connection:
                caught_up = connection.execute(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:target AS pg_lsn)"),
                    {"target": target},
                ).scalar_one()
            if caught_up:
                return
            time.sleep(0.05)
        raise AssertionError(f"the replica did not replay up to {target} in {timeout}s")
    finally:
        primary.dispose()
        replica.dispose()


def mysql_server() -> DatabaseServer:
    """The configured MySQL/MariaDB, else :exc:`Unavailable`."""
    if _answers(MYSQL_URL):
        return DatabaseServer(MYSQL_URL)
    raise Unavailable(f"no MySQL/MariaDB answers at {MYSQL_URL} (set RPDE_TEST_MYSQL_URL)")


def mysql_engine(url: str) -> Engine:
    """An engine on MariaDB/MySQL with the isolation level the docs ask for
    (docs/change-tracking.md: REPEATABLE READ renders embedded rows from a snapshot)."""
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="READ COMMITTED")


def redis_url() -> str:
    """The configured Redis, else a throwaway ``redis-server``, else :exc:`Unavailable`."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
        return REDIS_URL
    except redis.RedisError:
        pass
    finally:
        client.close()
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable(f"no Redis answers at {REDIS_URL} and redis-server is not installed")
    port = free_port()
    subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        try:
            redis.Redis.from_url(url).ping()
            return url
        except redis.RedisError:
            time.sleep(0.1)
    raise Unavailable("a throwaway redis-server did not start")
