"""A test app for gunicorn: the test models' feeds, configured from the environment.

``RPDE_TEST_APP_DATABASE_URL`` is the database; ``RPDE_TEST_APP_CONFIG`` a JSON object of
extra config (CACHE_*, RPDE_*); ``RPDE_TEST_APP_PROXY_HOPS`` wraps the app in ProxyFix.
Each response names the worker that answered (``X-Worker-Pid``), so tests can tell
which worker rendered a page and which served it from the cache.
"""

from __future__ import annotations

import json
import os

from flask import Flask
from flask import Response
from sqlalchemy import create_engine
from werkzeug.middleware.proxy_fix import ProxyFix

from rpde_publisher import RPDE

from .models import make_app
from .models import make_models
from .models import register_feeds


def create_app() -> Flask:
    models = make_models()
    rpde = RPDE()
    register_feeds(rpde, models)
    engine = create_engine(os.environ["RPDE_TEST_APP_DATABASE_URL"])
    config = json.loads(os.environ.get("RPDE_TEST_APP_CONFIG", "{}"))
    app = make_app(engine, rpde, **config)

    @app.after_request
    def _name_the_worker(response: Response) -> Response:
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    hops = int(os.environ.get("RPDE_TEST_APP_PROXY_HOPS", "0"))
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    return app
