"""The admin: a small server-rendered back office for the booking data, behind a login."""

from __future__ import annotations

from flask import Blueprint

from . import auth
from . import views
from .security import add_security_headers

admin = Blueprint(
    "admin", __name__, template_folder="templates", static_folder="static", url_prefix="/admin"
)
admin.before_request(auth.require_login)
admin.after_request(add_security_headers)
admin.after_request(auth.no_store)
auth.register(admin)
views.register(admin)
