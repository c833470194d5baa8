"""Logging in to the admin, and keeping everyone else out.

A few lines on Flask's signed session cookie rather than Flask-Login: Flask-Login's
``after_request`` hook reads the session on every request of the app, which adds
``Vary: Cookie`` to the public feed pages and so hurts their caching by CDNs. Here only
the admin's own requests touch the session.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import typing as t
from urllib.parse import urlsplit

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import Response
from flask import session
from flask import url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from ..models import AdminUser
from ..models import db
from .forms import ActionForm
from .forms import LoginForm

SESSION_KEY = "admin"
#: Endpoints open to everyone: the login page itself and the stylesheet.
OPEN_ENDPOINTS = {"admin.login", "admin.static"}


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
        remembered = session.get(SESSION_KEY)
        if isinstance(remembered, list) and len(remembered) == 2:
            candidate = db.session.get(AdminUser, remembered[0])
            if candidate is not None and remembered[1] == _fingerprint(candidate):
                user = candidate
        g._admin_user = user
    return t.cast(AdminUser | None, g._admin_user)


def require_login() -> Response | None:
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
    if not target:
        return default
    parts = urlsplit(target)
    admin_root = url_for("admin.index")
    if parts.scheme or parts.netloc or not parts.path.startswith(admin_root) or "\\" in target:
        return default
    return target


def login() -> t.Any:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = db.session.scalar(select(AdminUser).where(AdminUser.username == form.username.data))
        hashed = user.password_hash if user is not None else _dummy_hash()
        if check_password_hash(hashed, form.password.data or "") and user is not None:
            session.clear()  # a fresh session (and CSRF token) for the logged-in user
            session.permanent = True
            session[SESSION_KEY] = [user.id, _fingerprint(user)]
            return redirect(safe_next(request.args.get("next")), 303)
        flash({"message": "Wrong username or password."}, "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form), status


def logout() -> t.Any:
    form = ActionForm()
    if form.validate_on_submit():
        session.clear()
        flash({"message": "You are logged out."}, "info")
    return redirect(url_for("admin.login"), 303)


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    blueprint.add_url_rule("/logout", view_func=logout, methods=["POST"])
    blueprint.context_processor(lambda: {"current_admin": current_admin()})
