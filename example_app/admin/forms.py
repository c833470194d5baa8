"""The admin's forms; Flask-WTF gives each one its CSRF token."""

from __future__ import annotations

import typing as t
from datetime import datetime
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Regexp

#: The range of times a session may be moved to.
EARLIEST = datetime(2000, 1, 1)
LATEST = datetime(2099, 12, 31, 23, 59)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class ActionForm(FlaskForm):
    """A button that changes something: nothing to fill in but the CSRF token."""


class SessionForm(FlaskForm):
    """When a scheduled session happens and how many places it has, in local time."""

    start = DateTimeLocalField(
        "Starts (local time)", format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    duration_minutes = IntegerField(
        "Duration (minutes)", validators=[InputRequired(), NumberRange(min=5, max=24 * 60)]
    )
    maximum_capacity = IntegerField(
        "Capacity", validators=[InputRequired(), NumberRange(min=1, max=10_000)]
    )
    remaining_capacity = IntegerField(
        "Places left", validators=[InputRequired(), NumberRange(min=0, max=10_000)]
    )

    def validate_start(self, field: t.Any) -> None:
        if field.data is not None and not EARLIEST <= field.data <= LATEST:
            raise ValidationError(f"Give a time between {EARLIEST:%Y} and {LATEST:%Y}.")

    def validate_remaining_capacity(self, field: t.Any) -> None:
        capacity = self.maximum_capacity.data
        if capacity is not None and field.data is not None and field.data > capacity:
            raise ValidationError("Places left cannot be more than the capacity.")


class PriceForm(FlaskForm):
    # A pattern, not DecimalField: Decimal also reads "NaN", "sNaN" and "Infinity".
    price = StringField(
        "Price (GBP)",
        validators=[
            InputRequired(),
            Regexp(r"^[0-9]{1,4}(\.[0-9]{1,2})?$", message="Give a price such as 5 or 5.50."),
        ],
    )

    @property
    def amount(self) -> Decimal:
        """The price as a decimal; only after the form validated (InputRequired)."""
        assert self.price.data is not None
        return Decimal(self.price.data)
