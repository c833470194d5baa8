"""The example app's home page: where its feeds, dataset site and admin are."""

from __future__ import annotations

import typing as t
from pathlib import Path

from flask import Blueprint
from flask import current_app
from flask import render_template
from flask import send_from_directory

from .admin.security import add_security_headers
from .feeds import rpde

site = Blueprint("site", __name__, template_folder="templates")
site.after_request(add_security_headers)


@site.get("/")
def home() -> t.Any:
    dataset_site = current_app.config["RPDE_URL_PREFIX"].rstrip("/") + "/"
    return render_template("site/home.html", feeds=list(rpde.feeds), dataset_site=dataset_site)


@site.get("/favicon.ico")
def favicon() -> t.Any:
    """Browsers ask for it on every page, the JSON feeds included."""
    return send_from_directory(
        Path(__file__).parent / "admin" / "static", "favicon.svg", mimetype="image/svg+xml"
    )
