"""Fixed code lists of the directory and the roster spellings that map onto them."""

import re

# Kinds of listing. Individuals are practitioners; the rest follow the NUCC code's section and
# grouping (see app.vocab.nucc.entity_type_of).
ENTITY_TYPES = ("practitioner", "clinic", "urgent_care", "hospital", "pharmacy", "lab", "other")
LINES_OF_BUSINESS = ("commercial", "medi-cal", "medicare-advantage", "covered-california")
# Accepting new patients, per location and plan (FHIR Plan-Net `newpatients`), plus `unknown`
# for a roster that does not say: never guessed as accepting.
ACCEPTING = ("accepting", "not_accepting", "existing_only", "existing_family", "unknown")
ACCEPTING_ALIASES = {
    "newpt": "accepting",
    "nopt": "not_accepting",
    "existptonly": "existing_only",
    "existptfam": "existing_family",
    "y": "accepting",
    "yes": "accepting",
    "open": "accepting",
    "n": "not_accepting",
    "no": "not_accepting",
    "closed": "not_accepting",
    "u": "unknown",
    "unk": "unknown",
}
GENDERS = ("female", "male", "nonbinary")
GENDER_ALIASES = {"f": "female", "m": "male", "x": "nonbinary", "u": "", "unknown": ""}
ACCESSIBILITY = (
    "ada-access",
    "accessible-parking",
    "accessible-exam-room",
    "public-transit",
    "tty",
    "cultural-competence",
)
# Times a location is open, as the `open` filter names them: the days of the week, then two parts
# of the day people ask for (see app/vocab/hours.py for when a location counts as open at them).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPEN_TIMES = (*WEEKDAYS, "evening", "early")
TRUTHY = {
    "y": True,
    "yes": True,
    "true": True,
    "1": True,
    "n": False,
    "no": False,
    "false": False,
    "0": False,
}
PLAN_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SOURCE_CODE = PLAN_CODE
LIST_SEPARATOR = "|"


def split_list(value: str) -> list[str]:
    """The items of a multi-value roster cell (`a|b|c`), trimmed, blanks dropped."""
    if LIST_SEPARATOR not in value:
        value = value.strip()
        return [value] if value else []
    return [part for part in map(str.strip, value.split(LIST_SEPARATOR)) if part]
