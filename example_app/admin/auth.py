"""Logging in to the admin, and keeping everyone else out.

A few lines on Flask's signed session cookie rather than Flask-Login: Flask-Login's
``after_request`` hook reads the session on every request of the app, which adds
``Vary: Cookie`` to the public feed pages and so hurts their caching by CDNs. Here only
the admin's own requests touch the session. The cookie carries a random token; the login
itself is a row on the server (:class:`~example_app.models.AdminLogin`), which logging out
deletes and which ends at a fixed time, so a copied cookie does not outlive either.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import typing as t
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import Flask
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import Response
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import delete
from sqlalchemy import select
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from rpde_publisher.columns import utcnow

from ..models import AdminLogin
from ..models import AdminUser
from ..models import db
from .forms import ActionForm
from .forms import LoginForm
from .notices import notify

SESSION_KEY = "admin_login"
#: Endpoints open to everyone: the login page itself and the stylesheet.
OPEN_ENDPOINTS = {"admin.login", "admin.static"}
#: Password tries allowed per account and per client address in each window of
#: TRY_WINDOW_SECONDS; more are refused with 429 before any password is hashed.
TRIES_PER_ACCOUNT = 5
TRIES_PER_CLIENT = 20
TRY_WINDOW_SECONDS = 300
#: Password checks one worker runs at once: each costs about 0.1 s of CPU and 32 MB
#: (scrypt), so parallel tries could otherwise take the server's memory.
CONCURRENT_CHECKS = 2
_THROTTLE_KEY = "example_app.login_throttle"
_checking = threading.BoundedSemaphore(CONCURRENT_CHECKS)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so that a wrong username takes as long as a
    wrong password and does not reveal which usernames exist."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _fingerprint(user: AdminUser) -> str:
    """Changes when the password does, which ends every session logged in with the old one."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def current_admin() -> AdminUser | None:
    """The logged-in admin user of this request, if any."""
    if "_admin_user" not in g:
        user = None
        token = session.get(SESSION_KEY)
        if isinstance(token, str) and len(token) <= 100:
            login = db.session.get(AdminLogin, _hashed(token))
            if login is not None and login.expires > utcnow():
                candidate = db.session.get(AdminUser, login.user_id)
                if candidate is not None and login.fingerprint == _fingerprint(candidate):
                    user = candidate
        g._admin_user = user
    return t.cast(AdminUser | None, g._admin_user)


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _start_login(user: AdminUser) -> None:
    """A new login for ``user``, ending PERMANENT_SESSION_LIFETIME from now whatever the
    requests after it; logins already over are cleared on the way."""
    now = utcnow()
    db.session.execute(delete(AdminLogin).where(AdminLogin.expires <= now))
    token = secrets.token_urlsafe(32)
    db.session.add(
        AdminLogin(
            token_hash=_hashed(token),
            user_id=user.id,
            fingerprint=_fingerprint(user),
            expires=now + current_app.permanent_session_lifetime,
        )
    )
    db.session.commit()
    session.clear()  # a fresh session (and CSRF token) for the logged-in user
    session.permanent = True
    session[SESSION_KEY] = token


def _end_login() -> None:
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        db.session.execute(delete(AdminLogin).where(AdminLogin.token_hash == _hashed(token)))
        db.session.commit()
    session.clear()


def init_app(app: Flask) -> None:
    """The login throttle, counting in the page cache's Redis when there is one (every
    worker and host shares the count), else per worker."""
    from rpde_publisher.production import redis_behind
    from rpde_publisher.ratelimit import RateLimiter

    from ..feeds import rpde

    redis = redis_behind(app, rpde.state(app).cache)
    client, prefix = redis if redis is not None else (None, "")

    def limiter(limit: int, kind: str) -> RateLimiter:
        return RateLimiter(
            limit, client, key_prefix=f"{prefix}login:{kind}:", window=TRY_WINDOW_SECONDS
        )

    app.extensions[_THROTTLE_KEY] = (
        limiter(TRIES_PER_ACCOUNT, "account"),
        limiter(TRIES_PER_CLIENT, "client"),
    )


def _throttled(username: str) -> int | None:
    """Count a password try; the seconds to wait if this account or client tried too often."""
    per_account, per_client = current_app.extensions[_THROTTLE_KEY]
    waits = [
        per_client.retry_after(request.remote_addr or "unknown"),
        per_account.retry_after(username.strip().lower()[:80]),
    ]
    return max((wait for wait in waits if wait is not None), default=None)


def require_login() -> ResponseReturnValue | None:
    """Send anyone not logged in to the login page (a ``before_request`` function)."""
    if request.endpoint in OPEN_ENDPOINTS or current_admin() is not None:
        return None
    return redirect(url_for("admin.login", next=request.full_path.rstrip("?")), 303)


def no_store(response: Response) -> Response:
    """Admin pages are private and change on every visit: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path inside the admin, never another site."""
    default = url_for("admin.sessions")
    if not target or any(ord(character) < 32 or ord(character) == 127 for character in target):
        return default  # control characters (a CR LF) would break the Location header
    parts = urlsplit(target)
    admin_root = url_for("admin.index")
    if parts.scheme or parts.netloc or not parts.path.startswith(admin_root) or "\\" in target:
        return default
    return target


def login() -> t.Any:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        wait = _throttled(form.username.data or "")
        if wait is not None:
            return _too_many_tries(form, wait)
        if not _checking.acquire(blocking=False):
            return _too_many_tries(form, 1)
        try:
            user = db.session.scalar(
                select(AdminUser).where(AdminUser.username == form.username.data)
            )
            hashed = user.password_hash if user is not None else _dummy_hash()
            right = check_password_hash(hashed, form.password.data or "") and user is not None
        finally:
            _checking.release()
        if right:
            assert user is not None
            _start_login(user)
            return redirect(safe_next(request.args.get("next")), 303)
        notify("error", "Wrong username or password.")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form), status


def _too_many_tries(form: LoginForm, wait: int) -> tuple[str, int, dict[str, str]]:
    minutes = max(1, round(wait / 60))
    notify("error", f"Too many tries. Try again in {minutes} minute{'s' if minutes > 1 else ''}.")
    return render_template("admin/login.html", form=form), 429, {"Retry-After": str(wait)}


def logout() -> t.Any:
    form = ActionForm()
    if form.validate_on_submit():
        _end_login()
        notify("info", "You are logged out.")
    return redirect(url_for("admin.login"), 303)


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    blueprint.add_url_rule("/logout", view_func=logout, methods=["POST"])
    blueprint.context_processor(lambda: {"current_admin": current_admin()})
