"""The admin: a small server-rendered back office for the booking data, behind a login."""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import render_template
from flask_wtf.csrf import CSRFError

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


@admin.errorhandler(CSRFError)
def refused_without_csrf_token(error: CSRFError) -> t.Any:
    """A form that did not come from this admin, or expired: say so, change nothing."""
    reason = f"The form could not be trusted ({error.description}) It may have expired."
    return render_template("admin/refused.html", reason=reason), 400
