"""Every filter of a search, declared once: its public parameter, the `SearchQuery` attribute that
holds its values, its grain, its kind, the document field it matches, whether it is counted as a
facet, read from the search box or given up first when nobody is found, and its label.

The API's arguments, both engines' query builders, the relaxations and the page's filter names
are made from this table; an engine translates a filter *kind* at a *grain*, never a parameter.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.search.arguments import Accepting, Language, Matches, Multi, one_of
from app.vocab import languages
from app.vocab.codes import (
    ACCESSIBILITY,
    ENTITY_TYPES,
    GENDERS,
    LINES_OF_BUSINESS,
    OPEN_TIMES,
    PLAN_CODE,
)
from app.vocab.nucc import specialties
from app.vocab.zips import ZIP5

# Grains: what one filter is a condition on.
PROVIDER = "provider"  # the provider as a whole
LOCATION = "location"  # one location (all location conditions at one and the same location)
PLAN = "plan"  # one plan at that location (all plan conditions on one and the same plan)

# Kinds: how the values are matched.
ANY_OF = "any_of"  # the field has one of the values
ALL_OF = "all_of"  # the field has every value
FLAG = "flag"  # a yes/no field equals the value
AGE = "age"  # the value lies within the field's range (age_min..age_max)


@dataclass(frozen=True)
class Filter:
    parameter: str
    attribute: str
    grain: str
    kind: str
    field: str
    label: object  # a lazy translated string: its words in the visitor's language
    argument: Callable[[], fields.Field]  # how its value is parsed from a query string
    facet: bool = False
    readable: bool = False  # may be read from what is typed in `q`
    give_up: int = 0  # order a member gives it up in when nobody is found (1 first); 0 never
    widen: Callable[[str], tuple[str, ...]] | None = None  # the values one asked-for value finds

    def parse(self, value):
        """The `SearchQuery` value from the parsed argument (a list, a bool, an int)."""
        if self.kind in (FLAG, AGE):
            return value
        if self.widen is not None:
            return tuple(dict.fromkeys(v for one in value for v in self.widen(one)))
        return tuple(value)


def _codes(choices) -> Callable[[], fields.Field]:
    return lambda: Multi(fields.String(validate=one_of(choices)))


def _names(longest: int) -> Callable[[], fields.Field]:
    return lambda: Multi(fields.String(validate=validate.Length(1, longest)))


def _matching(pattern, error: str) -> Callable[[], fields.Field]:
    return lambda: Multi(fields.String(validate=Matches(pattern, error=error)))


def _specialty() -> fields.Field:
    known = validate.OneOf(sorted(specialties()), error="unknown NUCC taxonomy code")
    return Multi(fields.String(validate=known))


FILTERS = (
    Filter("type", "entity_types", PROVIDER, ANY_OF, "entity_type", _l("Kind of provider"),
           _codes(ENTITY_TYPES), readable=True, give_up=7),
    Filter("specialty", "specialties", PROVIDER, ANY_OF, "specialty_codes", _l("Specialty"),
           _specialty, facet=True, readable=True, give_up=8),
    Filter("pcp", "pcp", PROVIDER, FLAG, "pcp", _l("Primary care providers only"),
           fields.Boolean, readable=True, give_up=9),
    # Asking for a macrolanguage (Chinese) finds its languages (Mandarin, Cantonese), and a
    # language its macrolanguage.
    Filter("language", "languages", PROVIDER, ANY_OF, "languages", _l("Language spoken"),
           lambda: Multi(Language()), facet=True, readable=True, give_up=5,
           widen=languages.matching_tags),
    Filter("gender", "genders", PROVIDER, ANY_OF, "gender", _l("Gender"),
           _codes(GENDERS), facet=True, readable=True, give_up=4),
    Filter("age", "age", PROVIDER, AGE, "age", _l("Age of the patient"),
           lambda: fields.Integer(validate=validate.Range(0, 120), strict=False)),
    Filter("group", "groups", PROVIDER, ANY_OF, "medical_group", _l("Medical group"),
           _names(200)),
    Filter("hospital", "hospitals", PROVIDER, ANY_OF, "hospital_affiliations", _l("Hospital"),
           _names(200)),
    Filter("telehealth", "telehealth", LOCATION, FLAG, "telehealth", _l("Offers video visits"),
           fields.Boolean, readable=True, give_up=3),
    Filter("city", "cities", LOCATION, ANY_OF, "city", _l("City"), _names(80), facet=True),
    Filter("zip", "zips", LOCATION, ANY_OF, "zip", _l("ZIP code"),
           _matching(ZIP5, "a 5-digit ZIP code")),
    Filter("accessibility", "accessibility", LOCATION, ALL_OF, "accessibility",
           _l("Accessibility"), _codes(ACCESSIBILITY), give_up=6),
    # Any of the times asked for, at one location (app/vocab/hours.py reads them from its hours).
    Filter("open", "open_times", LOCATION, ANY_OF, "open_times", _l("Open"),
           _codes(OPEN_TIMES), readable=True, give_up=2),
    Filter("plan", "plans", PLAN, ANY_OF, "plan", _l("Health plan"),
           _matching(PLAN_CODE, "not a plan code"),
           facet=True, readable=True, give_up=11),
    Filter("line_of_business", "lines_of_business", PLAN, ANY_OF, "line_of_business",
           _l("Type of coverage"), _codes(LINES_OF_BUSINESS), facet=True, readable=True,
           give_up=10),
    Filter("accepting_new_patients", "accepting", PLAN, ANY_OF, "accepting",
           _l("Accepting new patients"), lambda: Multi(Accepting()), facet=True, readable=True,
           give_up=1),
)  # fmt: skip
BY_PARAMETER = {f.parameter: f for f in FILTERS}
# Parameters of the search box reader: the readable filters and a place.
READ_PARAMETERS = (*(f.parameter for f in FILTERS if f.readable), "near")
# Filters a member may give up when nobody is found, most dispensable first.
GIVE_UP_ORDER = tuple(sorted((f for f in FILTERS if f.give_up), key=lambda f: f.give_up))


_BY_GRAIN: dict[str, tuple[Filter, ...]] = {}
for _f in FILTERS:
    _BY_GRAIN[_f.grain] = (*_BY_GRAIN.get(_f.grain, ()), _f)


def at(grain: str) -> tuple[Filter, ...]:
    """The filters of one grain, in declaration order."""
    return _BY_GRAIN.get(grain, ())


def values(query, flt: Filter):
    """The values a query holds for one filter: a tuple (any or all of), a bool, an int or None."""
    return getattr(query, flt.attribute)


def is_set(query, flt: Filter) -> bool:
    value = values(query, flt)
    return value not in ((), None)
