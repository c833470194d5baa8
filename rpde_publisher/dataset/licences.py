"""The open licences a publisher may choose, and the start-up check of ``RPDE_LICENSE``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigurationError

__all__ = ["CC_BY_4", "OPEN_LICENCES", "Licence", "open_licence"]


@dataclass(frozen=True)
class Licence:
    """An open licence: its canonical URL and how to name it to people."""

    #: The canonical URL, as feed pages, the JSON-LD and the RDFa carry it.
    url: str
    #: The licence's full name, e.g. "Creative Commons Attribution 4.0 International".
    name: str
    #: Its short name, e.g. "CC BY 4.0".
    short_name: str
    #: The SPDX identifier, also accepted as a value of ``RPDE_LICENSE``.
    spdx: str
    #: Whether users must credit the publisher.
    requires_attribution: bool
    #: Whether adapted data must be shared under the same licence.
    share_alike: bool = False

    @property
    def is_openactive(self) -> bool:
        """Whether OpenActive's tools accept it: they require CC BY 4.0."""
        return self.url == CC_BY_4.url


CC_BY_4 = Licence(
    "https://creativecommons.org/licenses/by/4.0/",
    "Creative Commons Attribution 4.0 International",
    "CC BY 4.0",
    "CC-BY-4.0",
    requires_attribution=True,
)

#: Every licence ``RPDE_LICENSE`` may name. All are open licences in the sense of the
#: Open Definition, and all are ones the ODI's Open Data Certificate recognises.
OPEN_LICENCES: tuple[Licence, ...] = (
    CC_BY_4,
    Licence(
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "Creative Commons Attribution-ShareAlike 4.0 International",
        "CC BY-SA 4.0",
        "CC-BY-SA-4.0",
        requires_attribution=True,
        share_alike=True,
    ),
    Licence(
        "https://creativecommons.org/publicdomain/zero/1.0/",
        "Creative Commons Zero 1.0 Universal Public Domain Dedication",
        "CC0 1.0",
        "CC0-1.0",
        requires_attribution=False,
    ),
    Licence(
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "Open Government Licence v3.0",
        "OGL v3.0",
        "OGL-UK-3.0",
        requires_attribution=True,
    ),
    Licence(
        "https://opendatacommons.org/licenses/odbl/1-0/",
        "Open Data Commons Open Database License v1.0",
        "ODbL 1.0",
        "ODbL-1.0",
        requires_attribution=True,
        share_alike=True,
    ),
    Licence(
        "https://opendatacommons.org/licenses/by/1-0/",
        "Open Data Commons Attribution License v1.0",
        "ODC-By 1.0",
        "ODC-By-1.0",
        requires_attribution=True,
    ),
    Licence(
        "https://opendatacommons.org/licenses/pddl/1-0/",
        "Open Data Commons Public Domain Dedication and License v1.0",
        "PDDL 1.0",
        "PDDL-1.0",
        requires_attribution=False,
    ),
)


def _url_key(url: str) -> str:
    """A URL reduced to what identifies a licence: no scheme, ``www.``, case or final slash."""
    key = re.sub(r"^https?://(www\.)?", "", url.strip().lower()).rstrip("/")
    # Open Data Commons once wrote its versions "1.0"; the pages now live at "1-0".
    return re.sub(r"/(\d+)\.(\d+)$", r"/\1-\2", key)


_BY_KEY = {_url_key(licence.url): licence for licence in OPEN_LICENCES}
_BY_SPDX = {licence.spdx.lower(): licence for licence in OPEN_LICENCES}


def open_licence(value: object, setting: str = "RPDE_LICENSE") -> Licence:
    """The open licence ``value`` names (its URL in any usual spelling, or its SPDX id).

    :raise ConfigurationError: ``value`` is not one of :data:`OPEN_LICENCES`, for
        example a non-commercial or "all rights reserved" licence.
    """
    if isinstance(value, Licence):
        return value
    if isinstance(value, str) and value.strip():
        licence = _BY_SPDX.get(value.strip().lower()) or _BY_KEY.get(_url_key(value))
        if licence is not None:
            return licence
    accepted = "\n".join(f"  {licence.url}  ({licence.short_name})" for licence in OPEN_LICENCES)
    raise ConfigurationError(
        f"{setting} must be the URL of an open licence, got {value!r}. Open data must be"
        " free for anyone to use, share and adapt (no non-commercial or no-derivatives"
        " terms). OpenActive requires CC BY 4.0, the default; these are accepted:\n" + accepted
    )
