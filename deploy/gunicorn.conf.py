"""Gunicorn settings for serving RPDE feeds in production; the environment overrides each.

Run from the project root:  gunicorn -c deploy/gunicorn.conf.py deploy.wsgi:app
"""

import multiprocessing
import os

# Behind nginx on the same host: listen on loopback only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Feed requests spend most of their time waiting on Redis or the database, so a few
# threads per worker help; the workers share rendered pages through Redis.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Build the app once, before forking: create_app() (and any database set-up it does)
# runs once, not once per worker. The WSGI module must dispose of any engine it used so
# workers do not share pooled connections (deploy/wsgi.py does); rpde_publisher's own
# read-replica engine resets itself in each forked worker.
preload_app = True

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# nginx keeps upstream connections alive (see deploy/nginx/rpde.conf).
keepalive = 75
# Recycle workers now and then, so no slow leak lives for ever.
max_requests = 20000
max_requests_jitter = 2000

# Gunicorn itself trusts X-Forwarded-Proto only from these addresses; ProxyFix in
# deploy/wsgi.py handles X-Forwarded-Host and X-Forwarded-For.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
