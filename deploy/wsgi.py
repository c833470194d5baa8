"""The WSGI app gunicorn serves: the example app, behind a reverse proxy.

Replace ``create_app`` with your own factory; keep the two steps after it.
"""

import os

from werkzeug.middleware.proxy_fix import ProxyFix

from example_app import create_app
from example_app.models import db

app = create_app()

# create_app() may have used the database (create_all, seeding). With gunicorn's
# preload_app the workers are forked after this line: they must not inherit those
# pooled connections, so close them here; each worker opens its own.
with app.app_context():
    for engine in db.engines.values():
        engine.dispose()

# Trust X-Forwarded-For/-Proto/-Host from this many proxies in front (nginx: 1; a CDN in
# front of nginx: 2), so `next` URLs are https and carry the public host. Alternatively
# set RPDE_BASE_URL and leave the headers alone.
_hops = int(os.environ.get("PROXY_HOPS", "1"))
if _hops:
    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=_hops, x_proto=_hops, x_host=_hops
    )
