"""The admin user: seeded on first start, with a password from config or made up and saved."""

from __future__ import annotations

import secrets

from flask import Flask
from sqlalchemy import select
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from ..instance import instance_secret
from ..models import AdminUser
from ..models import AnySession

PASSWORD_FILE = "admin-password"
MINIMUM_PASSWORD_LENGTH = 8


def admin_password(app: Flask) -> str:
    """``EXAMPLE_ADMIN_PASSWORD`` if set, else a random one kept in the instance folder."""
    configured = app.config.get("EXAMPLE_ADMIN_PASSWORD")
    if configured:
        password = str(configured)
        if len(password) < MINIMUM_PASSWORD_LENGTH:
            raise RuntimeError(
                f"EXAMPLE_ADMIN_PASSWORD must be at least {MINIMUM_PASSWORD_LENGTH} characters."
            )
        return password
    return instance_secret(app, PASSWORD_FILE, lambda: secrets.token_urlsafe(12))


def password_source(app: Flask) -> str:
    """Where the admin password comes from, in words."""
    if app.config.get("EXAMPLE_ADMIN_PASSWORD"):
        return "set by EXAMPLE_ADMIN_PASSWORD"
    return f"kept in {app.instance_path}/{PASSWORD_FILE}"


def ensure_admin_user(session: AnySession, app: Flask) -> AdminUser:
    """Create the admin user, or give it the configured password; the caller commits."""
    username = str(app.config["EXAMPLE_ADMIN_USERNAME"])
    password = admin_password(app)
    user = session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        user = AdminUser(username=username, password_hash=generate_password_hash(password))
        session.add(user)
    elif not check_password_hash(user.password_hash, password):
        user.password_hash = generate_password_hash(password)
    return user
