"""The admin's forms; Flask-WTF gives each one its CSRF token."""

from __future__ import annotations

import typing as t

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField
from wtforms import DecimalField
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange


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

    def validate_remaining_capacity(self, field: t.Any) -> None:
        capacity = self.maximum_capacity.data
        if capacity is not None and field.data is not None and field.data > capacity:
            raise ValidationError("Places left cannot be more than the capacity.")


class PriceForm(FlaskForm):
    price = DecimalField(
        "Price (GBP)", places=2, validators=[InputRequired(), NumberRange(min=0, max=10_000)]
    )
