"""The data models' RPDE-feed mode: the rules that replace a type's own for open feed items.

definitions.json leaves out the models' ``validationMode`` / ``imperativeConfiguration*``;
the Node validator applies those for the ``RPDEFeed`` mode, so this copies what they say
for it (tests/test_item_checks.py holds it equal to the pinned npm package): per type,
``model`` replaces the type's rule lists, ``context`` replaces them where the object is the
value of that field.
"""

from __future__ import annotations

import typing as t

__all__ = ["RPDE_FEED"]

RPDE_FEED: dict[str, dict[str, t.Any]] = {
    "Dataset": {"model": {"recommendedFields": [], "requiredFields": []}},
    "Event": {
        "context": {
            "subEvent": {
                "requiredFields": [
                    "type",
                    "url",
                    "name",
                    "location",
                    "activity",
                    "organizer",
                    "startDate",
                ]
            }
        },
        "model": {},
    },
    "Offer": {
        "model": {
            "recommendedFields": ["name", "ageRestriction"],
            "requiredFields": ["type", "price"],
        }
    },
    "OnDemandEvent": {"model": {}},
    "OpeningHoursSpecification": {
        "context": {
            "specialOpeningHoursSpecification": {
                "requiredFields": ["type", "opens", "closes", "validFrom", "validThrough"]
            }
        }
    },
    "Organization": {"context": {"organizer": {"requiredFields": ["id"]}}},
    "Person": {"context": {"organizer": {"requiredFields": ["id"]}}, "model": {}},
    "PropertyValue": {
        "context": {
            "accessCode": {
                "requiredFields": ["type", "name", "description"],
                "shallNotInclude": ["value", "propertyID"],
            },
            "additionalProperty": {
                "requiredFields": ["type", "name", "value"],
                "shallNotInclude": ["description", "propertyID"],
            },
            "orderItemIntakeFormResponse": {
                "requiredFields": ["type", "propertyID", "value"],
                "shallNotInclude": ["name", "description"],
            },
        }
    },
    "WebAPI": {"model": {"recommendedFields": [], "requiredFields": []}},
}
