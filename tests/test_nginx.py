"""deploy/nginx/rpde.conf, run for real: nginx (TLS on loopback) in front of gunicorn.

The site file is used as shipped, with only its ports, paths and certificate replaced:
consumers get https ``next`` URLs on the public host, nginx caches pages by the app's
``Cache-Control`` (a separate variant per encoding, each with its own ETag), revalidates
an expired page with the app's ``304``, answers clients' ``If-None-Match`` itself, and
never caches errors.
"""

from __future__ import annotations

import gzip
import http.client
import json
import shutil
import ssl
import subprocess
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from .gunicorn import gunicorn
from .models import make_models
from .servers import free_port

pytestmark = pytest.mark.slow

SITE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "rpde.conf"
HOST = "data.example.org"
SERIES = "/openactive/feeds/session-series"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> t.Any:
        raw = gzip.decompress(self.body) if self.headers.get("content-encoding") else self.body
        return json.loads(raw)


@dataclass
class Proxy:
    https_port: int
    http_port: int

    def get(self, path: str, headers: dict[str, str] | None = None, *, tls: bool = True) -> Answer:
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, context=context, timeout=10
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        connection.request("GET", path, headers={"Host": HOST, **(headers or {})})
        response = connection.getresponse()
        answer = Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
        connection.close()
        return answer


def site_for_test(directory: Path, upstream: int, https_port: int, http_port: int) -> str:
    """The shipped site with loopback ports, a temporary cache and a self-signed certificate."""
    site = SITE.read_text()
    replacements = {
        "/var/cache/nginx/rpde": str(directory / "cache"),
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(directory / "cert.pem"),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(directory / "key.pem"),
    }
    for old, new in replacements.items():
        assert old in site, f"the shipped site no longer contains {old!r}"
        site = site.replace(old, new)
    return site


@pytest.fixture(scope="module")
def proxy() -> t.Iterator[Proxy]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists() or shutil.which("openssl") is None:
        pytest.skip("NGINX NOT TESTED: nginx or openssl is not installed")
    directory = Path(tempfile.mkdtemp(prefix="rpde-nginx-"))
    try:
        models = make_models()
        database = directory / "feeds.sqlite3"
        engine = create_engine(f"sqlite:///{database}")
        models.Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all([models.Series(name=f"Swim {i} " + "x" * 40) for i in range(25)])
            session.commit()
        engine.dispose()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-subj", f"/CN={HOST}", "-keyout", str(directory / "key.pem")]
            + ["-out", str(directory / "cert.pem")],
            check=True,
            capture_output=True,
        )
        config = {"RPDE_PAGE_SIZE": 10, "CACHE_TYPE": "SimpleCache"}
        environment = {
            "RPDE_TEST_APP_DATABASE_URL": f"sqlite:///{database}",
            "RPDE_TEST_APP_CONFIG": json.dumps(config),
            "RPDE_TEST_APP_PROXY_HOPS": "1",
        }
        with gunicorn("tests.wsgi_app:create_app()", environment, workers=1) as (base, _):
            upstream = int(base.rsplit(":", 1)[1])
            https_port, http_port = free_port(), free_port()
            (directory / "site.conf").write_text(
                site_for_test(directory, upstream, https_port, http_port)
            )
            (directory / "nginx.conf").write_text(
                f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
                "user root;\nworker_processes 1;\nevents {}\n"
                f"http {{\n  access_log off;\n  client_body_temp_path {directory}/body;\n"
                f"  proxy_temp_path {directory}/proxy;\n  include {directory}/site.conf;\n}}\n"
            )
            process = subprocess.Popen(
                [nginx, "-p", str(directory), "-c", str(directory / "nginx.conf")]
                + ["-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            proxy = Proxy(https_port, http_port)
            try:
                for _ in range(100):
                    try:
                        proxy.get("/openactive/health")
                        break
                    except OSError:
                        time.sleep(0.1)
                yield proxy
            finally:
                process.terminate()
                process.wait(timeout=10)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_https_next_urls_on_the_public_host_and_a_self_referencing_last_page(
    proxy: Proxy,
) -> None:
    url = SERIES
    for _ in range(10):
        answer = proxy.get(url)
        assert answer.status == 200
        body = answer.json()
        assert body["next"].startswith(f"https://{HOST}{SERIES}")
        if not body["items"]:
            assert body["next"] == f"https://{HOST}{url}"
            assert answer.headers["cache-control"] == "public, max-age=8"
            break
        url = path_of(body["next"])
    else:
        pytest.fail("never reached the last page")
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
    assert answer.headers["x-content-type-options"] == "nosniff"
    redirect = proxy.get(SERIES, tls=False)
    assert redirect.status == 301 and redirect.headers["location"] == f"https://{HOST}{SERIES}"


def test_pages_are_cached_by_cache_control_one_variant_per_encoding(proxy: Proxy) -> None:
    page = SERIES + "?afterTimestamp=1&afterId=3"
    first_plain = proxy.get(page, {"Accept-Encoding": "identity"})
    first_gzip = proxy.get(page, {"Accept-Encoding": "gzip, br"})
    assert first_plain.headers["x-cache-status"] == "MISS"
    assert first_gzip.headers["x-cache-status"] == "MISS", "the gzip variant is its own entry"
    assert first_gzip.headers["content-encoding"] == "gzip"
    assert first_gzip.json() == first_plain.json()
    assert first_gzip.headers["etag"] != first_plain.headers["etag"]
    for headers, first in (
        ({"Accept-Encoding": "identity"}, first_plain),
        ({"Accept-Encoding": "deflate, gzip;q=0.8"}, first_gzip),
    ):
        again = proxy.get(page, headers)
        assert again.headers["x-cache-status"] == "HIT"
        assert again.body == first.body and again.headers["etag"] == first.headers["etag"]
        # A client revalidating gets 304 from nginx's cache.
        revalidated = proxy.get(page, {**headers, "If-None-Match": first.headers["etag"]})
        assert revalidated.status == 304 and revalidated.body == b""
    assert "set-cookie" not in first_plain.headers


def test_an_expired_last_page_is_revalidated_with_the_app_304(proxy: Proxy) -> None:
    last = SERIES + "?afterTimestamp=999999&afterId=1"
    first = proxy.get(last, {"Accept-Encoding": "gzip"})
    assert first.status == 200 and first.json()["items"] == []
    assert first.headers["cache-control"] == "public, max-age=8"
    assert proxy.get(last, {"Accept-Encoding": "gzip"}).headers["x-cache-status"] == "HIT"
    time.sleep(9.5)  # nginx keeps time in whole seconds: past 8 s on any reading
    later = proxy.get(last, {"Accept-Encoding": "gzip"})
    assert later.headers["x-cache-status"] == "REVALIDATED", later.headers
    assert later.body == first.body and later.headers["etag"] == first.headers["etag"]


def test_errors_are_never_cached(proxy: Proxy) -> None:
    bad = SERIES + "?afterTimestamp=soon"
    for _ in range(2):
        answer = proxy.get(bad)
        assert answer.status == 400 and answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-cache-status"] in ("MISS", "BYPASS")
    missing = proxy.get("/openactive/feeds/nope")
    assert missing.status == 404 and proxy.get("/openactive/feeds/nope").headers[
        "x-cache-status"
    ] in ("MISS", "BYPASS")
