"""Canonical records (one per practitioner x location x plan) -> one document per provider."""

import itertools
from collections.abc import Iterable, Iterator
from functools import lru_cache

from app.vocab import text
from app.vocab.hours import open_times
from app.vocab.names import initials, joined_forms, other_forms
from app.vocab.nucc import describe as describe_specialty
from app.vocab.phones import phone_digits
from app.vocab.provider_ids import provider_id_word

AGE_FLOOR, AGE_CEILING = 0, 120


def display_name(record: dict) -> str:
    if record.get("entity_type", "practitioner") != "practitioner":
        return record["organization_name"]
    parts = [record.get("first_name"), record.get("middle_name"), record.get("last_name")]
    name = " ".join(p for p in parts if p)
    return f"{name}, {record['credentials']}" if record.get("credentials") else name


def sort_name(record: dict) -> str:
    if record.get("entity_type", "practitioner") != "practitioner":
        return text.fold(record["organization_name"])
    return text.fold(f"{record.get('last_name', '')} {record.get('first_name', '')}").strip()


def first_name_forms(first: str | None) -> list[str]:
    """Nicknames and full forms of a first name (Bob for Robert, Lupe for Guadalupe), of the whole
    name and of its first word ("José Ángel" is also Pepe)."""
    if not first:
        return []
    found = list(other_forms(first))
    head = text.tokens(first)[:1]
    if head and head[0] != text.fold(first).strip():
        found.extend(other_forms(head[0]))
    return [t for form in dict.fromkeys(found) for t in text.tokens(form)]


def written_name_words(name: dict) -> list[str]:
    """The name as written, however it is typed: compound names run together, and the initials
    of the first and middle names."""
    words: list[str] = []
    for part in (name["first"], name["middle"], name["last"]):
        words.extend(joined_forms(part))
    words.extend(initials(name["first"]))
    words.extend(initials(name["middle"]))
    return words


def person_name_words(name: dict) -> list[str]:
    """The words a person's name is found by besides its own: other forms of the first name
    (Bob for Robert) and `written_name_words`."""
    return [*first_name_forms(name["first"]), *written_name_words(name)]


def direct_words(doc: dict) -> list[str]:
    """Numbers and codes a clerk may type to find this provider: the NPI, each office's phone
    (10 digits) and each plan provider ID (one word, `gp91506t`)."""
    words = [doc["npi"]]
    for location in doc["locations"]:
        digits = phone_digits(location["phone"]) if location.get("phone") else None
        if digits:
            words.append(digits)
        words.extend(
            provider_id_word(plan["plan_provider_id"])
            for plan in location["plans"]
            if plan.get("plan_provider_id")
        )
    return [w for w in words if w]


@lru_cache(maxsize=4096)  # a few hundred codes, each on thousands of providers
def _specialty_words(code: str, display: str) -> tuple[str, ...]:
    """The words a specialty is found by: its names in English and Spanish and its terms."""
    known = describe_specialty(code)
    if not known.known:
        # A code NUCC does not have stays findable as it was written.
        return tuple(text.tokens(code))
    words = [*text.tokens(display), *text.tokens(known.display_es)]
    for term in known.terms:
        words.extend(text.tokens(term))
    return tuple(words)


def search_text(doc: dict) -> str:
    """Every word a visitor may type to find this provider: names (and their other forms),
    specialties, group, office, and the numbers and codes of `direct_words`."""
    words: list[str] = []
    name = doc["name"]
    for part in (name["first"], name["middle"], name["last"], name["organization"]):
        if part:
            words.extend(text.tokens(part))
    words.extend(person_name_words(name))
    for specialty in doc["specialties"]:
        words.extend(_specialty_words(specialty["code"], specialty["display"]))
    if doc.get("medical_group"):
        words.extend(text.tokens(doc["medical_group"]))
    for location in doc["locations"]:
        if location.get("name"):
            words.extend(text.tokens(location["name"]))
    words.extend(direct_words(doc))
    return " ".join(dict.fromkeys(words))


def name_text(doc: dict) -> str:
    """The words of the name as written (ranked as the name: "Kim" is Christine Kim's name, and
    only another form of Kimberly Anderson's, found through `search_text`)."""
    name = doc["name"]
    parts = (name["first"], name["middle"], name["last"], name["organization"])
    words = [t for p in parts if p for t in text.tokens(p)]
    return " ".join(dict.fromkeys([*words, *written_name_words(name)]))


def _new_provider(record: dict) -> dict:
    codes = record["taxonomy_codes"]
    described = [describe_specialty(code) for code in codes]
    specialties = [
        {"code": s.code, "display": s.display, "primary": i == 0, "known": s.known}
        for i, s in enumerate(described)
    ]
    pcp_types = [s.pcp_type for s in described if s.pcp_type]
    return {
        "npi": record["npi"],
        "entity_type": record.get("entity_type", "practitioner"),
        "name": {
            "first": record.get("first_name"),
            "middle": record.get("middle_name"),
            "last": record.get("last_name"),
            "organization": record.get("organization_name"),
        },
        "display_name": display_name(record),
        "sort_name": sort_name(record),
        "credentials": record.get("credentials"),
        "gender": record.get("gender") or None,
        "specialties": specialties,
        "specialty_codes": codes,
        "primary_specialty": codes[0] if codes else None,
        "pcp": bool(pcp_types),
        "pcp_type": pcp_types[0] if pcp_types else None,
        "age_min": record.get("age_min", AGE_FLOOR),
        "age_max": record.get("age_max", AGE_CEILING),
        "languages": record.get("languages", []),
        "board_certifications": record.get("board_certifications", []),
        "board_certified": bool(record.get("board_certifications")),
        "hospital_affiliations": record.get("hospital_affiliations", []),
        "medical_group": record.get("medical_group"),
        "license": record.get("license"),
        "last_updated": record.get("last_updated"),
        "last_verified": record.get("last_verified"),
        "locations": [],
    }


def _new_location(record: dict) -> dict:
    return {
        "location_id": record["location_id"],
        "name": record.get("location_name"),
        "address": record.get("address"),
        "city": record.get("city", ""),
        "state": record.get("state", "CA"),
        "zip": record["zip"],
        "zip4": record.get("zip4"),
        "phone": record.get("phone"),
        "phone_extension": record.get("phone_extension"),
        "hours": record.get("hours"),
        "open_times": list(open_times(record.get("hours"))),
        "accessibility": record.get("accessibility", []),
        "staff_languages": record.get("staff_languages", []),
        "telehealth": record.get("telehealth", False),
        "lat": round(record["latitude"], 6),
        "lon": round(record["longitude"], 6),
        "geo_source": record.get("geo_source", "roster"),
        "plans": [],
    }


def _plan(record: dict) -> dict:
    return {
        "plan": record["plan"],
        "plan_name": record.get("plan_name") or record["plan"],
        "line_of_business": record["line_of_business"],
        "plan_provider_id": record["plan_provider_id"],
        "accepting": record["accepting_new_patients"],
        "panel_capacity": record.get("panel_capacity"),
        "panel_members": record.get("panel_members"),
        "source": record.get("source"),
        "last_updated": record.get("last_updated"),
        "last_verified": record.get("last_verified"),
    }


# Values a record may leave out that another record of the same provider (or place) gives: a plan
# roster rarely repeats the languages or the phone extension a national file has.
PROVIDER_VALUES = (
    "first_name",
    "middle_name",
    "last_name",
    "organization_name",
    "credentials",
    "gender",
    "taxonomy_codes",
    "age_min",
    "age_max",
    "languages",
    "board_certifications",
    "hospital_affiliations",
    "medical_group",
    "license",
)
LOCATION_VALUES = (
    "location_name",
    "address",
    "city",
    "state",
    "zip4",
    "phone",
    "phone_extension",
    "hours",
    "accessibility",
    "staff_languages",
    "telehealth",
)


def _empty(value) -> bool:
    # Not `in (None, "", [], False)`: 0 == False, and an age of 0 is a value.
    return value is None or value is False or value == "" or value == []


def _filled(records: list[dict], names: tuple[str, ...]) -> dict:
    """The first record, its missing values taken from the next records that have them."""
    first = records[0]
    if len(records) == 1:
        return first
    merged = None
    for name in names:
        if _empty(first.get(name)):
            found = next((r[name] for r in records[1:] if not _empty(r.get(name))), None)
            if found is not None:
                merged = merged or dict(first)
                merged[name] = found
    return merged or first


def _newest_first(records: list[dict]) -> list[dict]:
    # Stable: among records updated the same day, the earlier source (by name) wins.
    return sorted(records, key=lambda r: r.get("last_updated") or "", reverse=True)


def _place(record: dict) -> str:
    """Where a record is: its address's place key, so that sources naming one place by different
    location ids (an NPPES listing, a plan roster) give one location; else its location id."""
    return record.get("place") or f"id:{record['location_id']}"


def provider_document(records: list[dict]) -> dict:
    """One provider's document from all its records (any sources), the newest record winning.

    A record without a plan lists the provider at its location; plan records add the plans.
    """
    chosen: dict[tuple[str, str], dict] = {}
    for record in _newest_first(records):
        chosen.setdefault((_place(record), record.get("plan") or ""), record)
    newest = _newest_first(list(chosen.values()))
    doc = _new_provider(_filled(newest, PROVIDER_VALUES))
    updated = [r.get("last_updated") for r in chosen.values() if r.get("last_updated")]
    verified = [r.get("last_verified") for r in chosen.values() if r.get("last_verified")]
    doc["last_updated"] = max(updated, default=None)
    # A provider is only as verified as its least recently verified record.
    doc["last_verified"] = min(verified, default=None) if len(verified) == len(chosen) else None
    at_place: dict[str, list[dict]] = {}
    for record in newest:
        at_place.setdefault(_place(record), []).append(record)
    locations: dict[str, dict] = {}
    for (place, plan_code), record in sorted(chosen.items()):
        if place not in locations:
            # The place takes the location id and details of its newest plan record, if any.
            here = at_place[place]
            with_plan = [r for r in here if r.get("plan")]
            others = [r for r in here if not r.get("plan")]
            locations[place] = _new_location(_filled(with_plan + others, LOCATION_VALUES))
        if plan_code:
            locations[place]["plans"].append(_plan(record))
    doc["locations"] = sorted(locations.values(), key=lambda loc: loc["location_id"])
    doc["search_text"] = search_text(doc)
    doc["name_text"] = name_text(doc)
    return doc


def documents_from_sorted(records: Iterable[dict]) -> Iterator[dict]:
    """Provider documents from records in npi order, one provider in memory at a time."""
    for _npi, group in itertools.groupby(records, key=lambda r: r["npi"]):
        yield provider_document(list(group))


def build_documents(records: Iterable[dict]) -> list[dict]:
    """Documents from records in any order (small inputs: tests, tools)."""
    return list(documents_from_sorted(sorted(records, key=lambda r: r["npi"])))
