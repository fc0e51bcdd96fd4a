"""Canonical records (one per practitioner x location x plan) -> one document per provider."""

from collections.abc import Iterable, Iterator

from indexer import text
from indexer.records import RowError
from indexer.specialties import lookup as lookup_specialty

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


def search_text(doc: dict) -> str:
    """Every word a visitor may type to find this provider: names, specialties, group, office."""
    words: list[str] = []
    name = doc["name"]
    for part in (name["first"], name["middle"], name["last"], name["organization"]):
        if part:
            words.extend(text.tokens(part))
    for specialty in doc["specialties"]:
        known = lookup_specialty(specialty["code"])
        words.extend(text.tokens(specialty["display"]))
        words.extend(text.tokens(known.display_es))
        for term in known.terms:
            words.extend(text.tokens(term))
    if doc.get("medical_group"):
        words.extend(text.tokens(doc["medical_group"]))
    for location in doc["locations"]:
        if location.get("name"):
            words.extend(text.tokens(location["name"]))
    return " ".join(dict.fromkeys(words))


def name_text(doc: dict) -> str:
    name = doc["name"]
    parts = (name["first"], name["middle"], name["last"], name["organization"])
    return " ".join(t for p in parts if p for t in text.tokens(p))


def _new_provider(record: dict) -> dict:
    codes = record["taxonomy_codes"]
    specialties = [
        {"code": code, "display": lookup_specialty(code).display, "primary": i == 0}
        for i, code in enumerate(codes)
    ]
    pcp_types = [lookup_specialty(c).pcp_type for c in codes if lookup_specialty(c).pcp_type]
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
        "phone": record.get("phone"),
        "hours": record.get("hours"),
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
    }


def _latest(a: str | None, b: str | None) -> str | None:
    return max((d for d in (a, b) if d), default=None)


class DirectoryBuilder:
    """Collects records and hands out provider documents, rejecting duplicate rows."""

    def __init__(self) -> None:
        self._providers: dict[str, dict] = {}
        self._seen: dict[tuple[str, str, str], int] = {}
        self._location_index: dict[tuple[str, str], dict] = {}

    def add(self, record: dict) -> list[RowError]:
        key = (record["npi"], record["location_id"], record["plan"])
        if key in self._seen:
            return [
                RowError(
                    record["line"],
                    "plan",
                    record["plan"],
                    f"duplicate of line {self._seen[key]} (same npi, location_id and plan)",
                )
            ]
        self._seen[key] = record["line"]
        provider = self._providers.get(record["npi"])
        if provider is None:
            provider = self._providers[record["npi"]] = _new_provider(record)
        provider["last_updated"] = _latest(provider["last_updated"], record.get("last_updated"))
        provider["last_verified"] = _latest(provider["last_verified"], record.get("last_verified"))
        location = self._location_index.get((record["npi"], record["location_id"]))
        if location is None:
            location = self._location_index[(record["npi"], record["location_id"])] = _new_location(
                record
            )
            provider["locations"].append(location)
        location["plans"].append(_plan(record))
        return []

    def __len__(self) -> int:
        return len(self._providers)

    @property
    def location_count(self) -> int:
        return len(self._location_index)

    def documents(self) -> Iterator[dict]:
        """Finished provider documents in NPI order (so a re-import writes the same directory)."""
        for npi in sorted(self._providers):
            doc = self._providers[npi]
            doc["locations"].sort(key=lambda loc: loc["location_id"])
            for location in doc["locations"]:
                location["plans"].sort(key=lambda p: p["plan"])
            doc["search_text"] = search_text(doc)
            doc["name_text"] = name_text(doc)
            yield doc


def build_documents(records: Iterable[dict]) -> list[dict]:
    builder = DirectoryBuilder()
    for record in records:
        builder.add(record)
    return list(builder.documents())
