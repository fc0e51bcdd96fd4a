"""HL7 Da Vinci PDex Plan-Net (FHIR R4) directory data -> rows of the project's roster layout.

Reads FHIR Bundles (JSON, resources in ``entry[].resource``) and NDJSON files (``.ndjson``, one
resource per line, read line by line). A first pass indexes every resource except PractitionerRole
by ``Type/id`` and by ``fullUrl``; a second pass yields, for each active PractitionerRole x network
x location, one row of the canonical CSV columns with string values (lists joined with ``|``),
exactly what the CSV reader yields, numbered by the role's position in its file (NDJSON line,
Bundle entry index + 1). A role that cannot be assembled, and a resource that is not one, yields
``(n, [RowError, ...])`` with all its problems instead; reading continues. References resolve
across all the files given: ``Type/id``, absolute URLs ending in ``Type/id``, or a ``fullUrl``.

Mapping (blank when absent; the validation decides what a row must have):

- npi: Practitioner.identifier with system us-npi (a role without one is an error). Names: the
  official (else first) Practitioner.name, given[0] / given[1] / family. credentials:
  Practitioner.qualification codes from v2-0360 (degrees), else name.suffix. gender: male /
  female (other, unknown: blank). license: Practitioner.identifier typed v2-0203 ``MD``.
- languages: Practitioner.communication (urn:ietf:bcp:47 or bare codes, else the text), except
  those whose communication-proficiency is 00 or 10 (none / elementary): 20 and above count.
- taxonomy_codes: PractitionerRole.specialty NUCC codings, else PractitionerRole.code ones.
- medical_group: PractitionerRole.organization -> Organization.name.
- location_*: Location id, name, address, first phone, position; hours from hoursOfOperation
  (else the role's availableTime) as ``Mon-Fri 8:00-17:00; Sat 9:00-13:00``; accessibility
  handiaccess / adacomp -> ada-access, pubtrans -> public-transit, cultcomp -> cultural-competence,
  other codes dropped.
- telehealth: ``Y`` when a HealthcareService of the role (PractitionerRole.healthcareService) has
  a delivery-method extension of type ``virtual``, else ``N``; staff_languages: those services'
  communication. Both apply to every location of the role.
- networks: network-reference extensions plus newpatients.fromNetwork; a role in no network gives
  rows without a plan (the practitioner listed at its locations). plan: slug of the
  network's first identifier value, else of its id (``[a-z0-9-]``, 64 at most); plan_name: its
  name. line_of_business: the first InsurancePlan (in reading order) whose network or
  plan[].network names the network and whose type maps: medi, medihmo, mcaid, Medicaid ->
  medi-cal; mediadv, mediadvhmo, mcare, Medicare Advantage -> medicare-advantage; qhp, exchange ->
  covered-california; commercial HMO / PPO / EPO / POS / HDHP -> commercial; none: commercial.
- plan_provider_id: the role's first non-NPI identifier assigned by that network (or by the
  ownedBy / administeredBy organization of an InsurancePlan using it), else its first non-NPI
  identifier not assigned by another of the role's networks.
- accepting_new_patients: the newpatients extension whose fromNetwork is that network, else the
  one without fromNetwork, on the role, then on the location: newpt / nopt / existptonly /
  existptfam -> accepting / not_accepting / existing_only / existing_family.
- last_updated: the latest meta.lastUpdated date of the role, its practitioner and location.

Roles with ``active: false`` are skipped. Not in Plan-Net, left blank: age_min, age_max,
board_certifications, hospital_affiliations, panel_capacity, last_verified.
"""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.vocab.plannet import (
    ACCEPTING,
    ACCESSIBILITY,
    ACCESSIBILITY_CODES,
    BCP47_SYSTEM,
    COMMUNICATION_PROFICIENCY,
    DEGREE_SYSTEM,
    DELIVERY_METHOD,
    IDENTIFIER_TYPE_SYSTEM,
    LINE_OF_BUSINESS_CODES,
    LOW_PROFICIENCY,
    MEDICAL_LICENSE_TYPE,
    NETWORK_REFERENCE,
    NEWPATIENTS,
    NPI_SYSTEM,
    NUCC_SYSTEM,
)
from app.vocab.text import fold
from indexer.records import RowError
from indexer.sources.csv_roster import RosterFormatError
from indexer.validate import ROSTER_COLUMNS

CANONICAL_COLUMNS = ROSTER_COLUMNS

NDJSON_SUFFIXES = (".ndjson",)
LIST_SEPARATOR = "|"

# Words in a coding's display or a type's text, tried in this order when no code maps.
LINE_OF_BUSINESS_WORDS = (
    (re.compile(r"\bmedicare advantage\b"), "medicare-advantage"),
    (re.compile(r"\bmedicaid\b|\bmedi-cal\b"), "medi-cal"),
    (
        re.compile(r"\bqualified health plan\b|\bexchange\b|\bmarketplace\b|covered california"),
        "covered-california",
    ),
    (re.compile(r"\bcommercial\b|\bhmo\b|\bppo\b|\bepo\b|\bpos\b"), "commercial"),
)
DEFAULT_LINE_OF_BUSINESS = "commercial"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_HOURS_TEXT = 200
MAX_PLAN_CODE = 64
# The Type/id at the end of a relative or absolute reference (a version suffix allowed).
REFERENCE_TAIL = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([^/?#\s]+)(?:/_history/[^/]+)?$")

Resource = dict


@dataclass(frozen=True)
class _Invalid:
    """An entry or line that is not a FHIR resource."""

    field: str
    value: str
    reason: str


def read_plannet(
    paths: Iterable[str | Path],
) -> Iterator[tuple[int, dict[str, str] | list[RowError]]]:
    """Yield (position of the PractitionerRole in its file, canonical row or its errors).

    Raises RosterFormatError, before yielding anything, for a file that is neither a FHIR Bundle
    nor NDJSON.
    """
    files = [Path(p) for p in paths]
    index = _Index()
    # A Bundle is parsed once: its roles wait in memory. NDJSON is read again, line by line.
    pending: dict[Path, list[tuple[int, Resource | _Invalid]]] = {}
    for path in files:
        found = invalid = 0
        kept = pending[path] = []
        for n, item, full_url in _entries(path):
            if isinstance(item, _Invalid):
                invalid += 1
            else:
                found += 1
                if item["resourceType"] != "PractitionerRole":
                    index.add(item, full_url)
                    continue
            if not _is_ndjson(path):
                kept.append((n, item))
        if invalid and not found:
            raise RosterFormatError(
                f"{path.name}: no line is a FHIR resource; expected NDJSON (one JSON resource "
                "per line) or a FHIR Bundle"
            )
    index.link_plans()
    for path in files:
        second = (
            ((n, item) for n, item, _url in _entries(path)) if _is_ndjson(path) else pending[path]
        )
        for n, item in second:
            if isinstance(item, _Invalid):
                yield n, [RowError(line=n, field=item.field, value=item.value, reason=item.reason)]
            elif item["resourceType"] == "PractitionerRole" and item.get("active") is not False:
                result = _role_rows(n, item, index)
                if result and isinstance(result[0], RowError):
                    yield n, result
                else:
                    for row in result:
                        yield n, row


# --- files ------------------------------------------------------------------------------------


def _entries(path: Path) -> Iterator[tuple[int, Resource | _Invalid, str | None]]:
    """(position, resource or why it is none, fullUrl) for every entry or line of a file."""
    return _ndjson_entries(path) if _is_ndjson(path) else _bundle_entries(path)


def _is_ndjson(path: Path) -> bool:
    return path.suffix.lower() in NDJSON_SUFFIXES


def _ndjson_entries(path: Path) -> Iterator[tuple[int, Resource | _Invalid, str | None]]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for number, line in enumerate(fh, start=1):
                text = line.strip()
                if not text:
                    continue
                try:
                    resource = json.loads(text)
                except json.JSONDecodeError as exc:
                    reason = f"line {number} is not JSON ({exc.msg} at column {exc.colno})"
                    yield number, _Invalid("resource", _clip(text), reason), None
                    continue
                yield number, _checked(resource, f"line {number}"), None
    except UnicodeDecodeError as exc:
        raise RosterFormatError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc


def _bundle_entries(path: Path) -> Iterator[tuple[int, Resource | _Invalid, str | None]]:
    expected = "expected a FHIR Bundle (JSON) or NDJSON (a .ndjson file, one resource per line)"
    try:
        with open(path, encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except UnicodeDecodeError as exc:
        raise RosterFormatError(f"{path.name}: not UTF-8 text; {expected}") from exc
    except json.JSONDecodeError as exc:
        raise RosterFormatError(f"{path.name}: not JSON ({exc.msg}); {expected}") from exc
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise RosterFormatError(f"{path.name}: JSON but not a FHIR Bundle ({found!r}); {expected}")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise RosterFormatError(f"{path.name}: Bundle.entry is not a list")
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            reason = f"Bundle entry {number} is not a JSON object"
            yield number, _Invalid("Bundle.entry", _clip(json.dumps(entry)), reason), None
            continue
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        if "resource" not in entry:
            reason = f"Bundle entry {number} holds no resource"
            yield number, _Invalid("Bundle.entry.resource", full_url or "", reason), full_url
            continue
        yield number, _checked(entry["resource"], f"Bundle entry {number}"), full_url


def _checked(resource: object, where: str) -> Resource | _Invalid:
    if not isinstance(resource, dict):
        text = _clip(json.dumps(resource))
        return _Invalid("resource", text, f"{where} is not a JSON object, so not a FHIR resource")
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind:
        text = _clip(json.dumps(resource))
        return _Invalid("resourceType", text, f"{where} has no resourceType")
    return resource


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- references ----------------------------------------------------------------------------------


class _Index:
    """Resources by Type/id and by fullUrl; InsurancePlans by the network they name."""

    def __init__(self) -> None:
        self.by_key: dict[str, Resource] = {}
        self.by_url: dict[str, Resource] = {}
        self.insurance_plans: list[Resource] = []
        self.plans_by_network: dict[int, list[Resource]] = {}

    def add(self, resource: Resource, full_url: str | None) -> None:
        if isinstance(resource.get("id"), str):
            self.by_key[f"{resource['resourceType']}/{resource['id']}"] = resource
        if full_url:
            self.by_url[full_url] = resource
        if resource["resourceType"] == "InsurancePlan":
            self.insurance_plans.append(resource)

    def resolve(self, reference: str) -> Resource | None:
        if reference in self.by_url:
            return self.by_url[reference]
        match = REFERENCE_TAIL.search(reference)
        return self.by_key.get(f"{match[1]}/{match[2]}") if match else None

    def target(self, value: object) -> Resource | None:
        """The resource a Reference element points at, if any."""
        reference = value.get("reference") if isinstance(value, dict) else None
        return self.resolve(reference) if isinstance(reference, str) else None

    def link_plans(self) -> None:
        for plan in self.insurance_plans:
            refs = list(_list(plan.get("network")))
            for sub in _list(plan.get("plan")):
                refs.extend(_list(sub.get("network")) if isinstance(sub, dict) else [])
            seen: set[int] = set()
            for ref in refs:
                network = self.target(ref)
                if network is not None and id(network) not in seen:
                    seen.add(id(network))
                    self.plans_by_network.setdefault(id(network), []).append(plan)

    def plans_for(self, network: Resource) -> list[Resource]:
        return self.plans_by_network.get(id(network), [])


class _Problems:
    """The errors of one role, with the reference resolution that records them."""

    def __init__(self, n: int, index: _Index) -> None:
        self.n = n
        self.index = index
        self.errors: list[RowError] = []

    def add(self, field: str, value: str, reason: str) -> None:
        self.errors.append(RowError(line=self.n, field=field, value=value, reason=reason))

    def follow(self, value: object, expected: str, field: str, what: str) -> Resource | None:
        """Resolve a Reference to a resource of type ``expected``, or record why it cannot be."""
        reference = value.get("reference") if isinstance(value, dict) else None
        if not isinstance(reference, str) or not reference.strip():
            self.add(field, "", f"the {what} reference has no 'reference' to follow")
            return None
        target = self.index.resolve(reference)
        if target is None:
            self.add(
                field,
                reference,
                f"{reference} cannot be resolved: no {expected} with that id is in the files read",
            )
            return None
        if target["resourceType"] != expected:
            self.add(
                field,
                reference,
                f"{reference} is a {target['resourceType']}, the {what} must be a {expected}",
            )
            return None
        return target


# --- one role -----------------------------------------------------------------------------------


def _role_rows(n: int, role: Resource, index: _Index) -> list[dict[str, str]] | list[RowError]:
    problems = _Problems(n, index)

    practitioner = None
    if role.get("practitioner") is None:
        problems.add(
            "PractitionerRole.practitioner",
            "",
            "the role names no practitioner; a directory row needs one (NPI, name)",
        )
    else:
        practitioner = problems.follow(
            role["practitioner"], "Practitioner", "PractitionerRole.practitioner", "practitioner"
        )
    npi = _npi(practitioner) if practitioner is not None else None
    if practitioner is not None and npi is None:
        problems.add(
            "Practitioner.identifier",
            role["practitioner"]["reference"],
            f"{role['practitioner']['reference']} has no NPI (an identifier with system "
            f"{NPI_SYSTEM})",
        )

    organization = None
    if role.get("organization") is not None:
        organization = problems.follow(
            role["organization"], "Organization", "PractitionerRole.organization", "organization"
        )

    locations = []
    if not _list(role.get("location")):
        problems.add("PractitionerRole.location", "", "the role names no location")
    for ref in _list(role.get("location")):
        location = problems.follow(ref, "Location", "PractitionerRole.location", "location")
        if location is not None and all(location is not known for known in locations):
            locations.append(location)

    services = []
    for ref in _list(role.get("healthcareService")):
        service = problems.follow(
            ref, "HealthcareService", "PractitionerRole.healthcareService", "healthcare service"
        )
        if service is not None:
            services.append(service)

    networks: list[Resource] = []

    def add_network(network: Resource | None) -> None:
        if network is not None and all(network is not known for known in networks):
            networks.append(network)

    for ext in _extensions(role, NETWORK_REFERENCE):
        add_network(
            problems.follow(
                ext.get("valueReference"),
                "Organization",
                "PractitionerRole.extension:network",
                "network",
            )
        )
    for ext in _extensions(role, NEWPATIENTS):
        from_network = _sub_extension(ext, "fromNetwork")
        if from_network is not None:
            add_network(
                problems.follow(
                    from_network.get("valueReference"),
                    "Organization",
                    "PractitionerRole.extension:newpatients.fromNetwork",
                    "fromNetwork",
                )
            )
    if problems.errors or practitioner is None or npi is None:
        return problems.errors

    base = dict.fromkeys(CANONICAL_COLUMNS, "")
    base.update(_practitioner_fields(practitioner, npi))
    base["taxonomy_codes"] = _join(_taxonomy_codes(role))
    base["medical_group"] = _text(organization.get("name")) if organization else ""
    base["telehealth"] = "Y" if any(_is_virtual(s) for s in services) else "N"
    base["staff_languages"] = _join(
        dict.fromkeys(code for s in services for code in _languages(s.get("communication")))
    )
    role_hours = _hours(role.get("availableTime"), "availableStartTime", "availableEndTime")

    rows = []
    # A role in no network still lists the practitioner at its locations, without a plan.
    for network in networks or [None]:
        plan = _plan_fields(role, network, networks, index) if network else {}
        for location in locations:
            row = dict(base)
            row.update(plan)
            row.update(_location_fields(location))
            if not row["hours"]:
                row["hours"] = role_hours
            if network is not None:
                row["accepting_new_patients"] = _accepting(role, location, network, index)
            row["last_updated"] = max(
                (_date(r) for r in (role, practitioner, location) if _date(r)), default=""
            )
            rows.append(row)
    return rows


def _practitioner_fields(practitioner: Resource, npi: str) -> dict[str, str]:
    name = _official_name(practitioner)
    given = [g for g in _list(name.get("given")) if isinstance(g, str) and g.strip()]
    degrees = [
        code
        for q in _list(practitioner.get("qualification"))
        if isinstance(q, dict)
        for code in _codes(q.get("code"), DEGREE_SYSTEM)
    ]
    suffixes = [s for s in _list(name.get("suffix")) if isinstance(s, str) and s.strip()]
    return {
        "npi": npi,
        "entity_type": "practitioner",
        "first_name": given[0].strip() if given else "",
        "middle_name": given[1].strip() if len(given) > 1 else "",
        "last_name": _text(name.get("family")),
        "credentials": ", ".join(dict.fromkeys(degrees or suffixes)),
        "gender": {"male": "male", "female": "female"}.get(_text(practitioner.get("gender")), ""),
        "languages": _join(_languages(practitioner.get("communication"))),
        "license": _license(practitioner),
    }


def _location_fields(location: Resource) -> dict[str, str]:
    address = location.get("address") if isinstance(location.get("address"), dict) else {}
    position = location.get("position") if isinstance(location.get("position"), dict) else {}
    lines = [s.strip() for s in _list(address.get("line")) if isinstance(s, str) and s.strip()]
    accessibility = [
        ACCESSIBILITY_CODES[code]
        for ext in _extensions(location, ACCESSIBILITY)
        for code in _codes(ext.get("valueCodeableConcept"))
        if code in ACCESSIBILITY_CODES
    ]
    return {
        "location_id": _text(location.get("id")),
        "location_name": _text(location.get("name")),
        "address": ", ".join(lines),
        "city": _text(address.get("city")),
        "state": _text(address.get("state")),
        "zip": _text(address.get("postalCode")),
        "phone": _phone(location.get("telecom")),
        "hours": _hours(location.get("hoursOfOperation"), "openingTime", "closingTime"),
        "accessibility": _join(dict.fromkeys(accessibility)),
        "latitude": _text(position.get("latitude")),
        "longitude": _text(position.get("longitude")),
    }


def _plan_fields(
    role: Resource, network: Resource, networks: list[Resource], index: _Index
) -> dict[str, str]:
    plans = index.plans_for(network)
    return {
        "plan": _plan_code(network),
        "plan_name": _text(network.get("name")),
        "line_of_business": next(
            (lob for lob in map(_line_of_business, plans) if lob), DEFAULT_LINE_OF_BUSINESS
        ),
        "plan_provider_id": _plan_provider_id(role, network, networks, plans, index),
    }


# --- field rules -------------------------------------------------------------------------------


def _npi(practitioner: Resource) -> str | None:
    for identifier in _list(practitioner.get("identifier")):
        if isinstance(identifier, dict) and identifier.get("system") == NPI_SYSTEM:
            value = _text(identifier.get("value"))
            if value:
                return value
    return None


def _license(practitioner: Resource) -> str:
    for identifier in _list(practitioner.get("identifier")):
        if isinstance(identifier, dict) and MEDICAL_LICENSE_TYPE in _codes(
            identifier.get("type"), IDENTIFIER_TYPE_SYSTEM
        ):
            return _text(identifier.get("value"))
    return ""


def _official_name(practitioner: Resource) -> dict:
    names = [n for n in _list(practitioner.get("name")) if isinstance(n, dict)]
    current = [n for n in names if n.get("use") not in ("old", "anonymous")] or names
    return next((n for n in current if n.get("use") == "official"), current[0] if current else {})


def _languages(communication: object) -> list[str]:
    """Language codes (or names) of Practitioner / HealthcareService .communication."""
    found = []
    for concept in _list(communication):
        if not isinstance(concept, dict):
            continue
        proficiency = {
            code
            for ext in _extensions(concept, COMMUNICATION_PROFICIENCY)
            for code in _codes(ext.get("valueCodeableConcept"))
        }
        if proficiency & LOW_PROFICIENCY:
            continue
        # BCP 47 codings first, then any other coding's code; the tag is settled in validation
        # ("zh-Hant" -> zh, "zh-yue" -> yue).
        codings = sorted(_codings(concept), key=lambda c: c.get("system") != BCP47_SYSTEM)
        codes = [_text(c.get("code")) for c in codings]
        codes = [c for c in codes if c]
        if codes:
            found.append(codes[0])
        elif _text(concept.get("text")):
            found.append(_text(concept.get("text")))
    return list(dict.fromkeys(found))


def _taxonomy_codes(role: Resource) -> list[str]:
    codes = [
        code for concept in _list(role.get("specialty")) for code in _codes(concept, NUCC_SYSTEM)
    ]
    if not codes:
        codes = [
            code for concept in _list(role.get("code")) for code in _codes(concept, NUCC_SYSTEM)
        ]
    return list(dict.fromkeys(codes))


def _is_virtual(service: Resource) -> bool:
    for ext in _extensions(service, DELIVERY_METHOD):
        kind = _sub_extension(ext, "type")
        if kind is not None and "virtual" in _codes(kind.get("valueCodeableConcept")):
            return True
    return False


def _phone(telecom: object) -> str:
    phones = [
        t
        for t in _list(telecom)
        if isinstance(t, dict) and t.get("system") == "phone" and _text(t.get("value"))
    ]
    preferred = [t for t in phones if t.get("use") == "work"] or phones
    return _text(preferred[0].get("value")) if preferred else ""


def _hours(entries: object, opening: str, closing: str) -> str:
    """FHIR hoursOfOperation / availableTime as ``Mon-Fri 8:00-17:00; Sat 9:00-13:00``."""
    by_time: dict[str, set[str]] = {}
    for entry in _list(entries):
        if not isinstance(entry, dict):
            continue
        days = {d for d in _list(entry.get("daysOfWeek")) if d in DAYS}
        if not days:
            continue
        if entry.get("allDay") is True:
            times = "24 hours"
        elif _text(entry.get(opening)) and _text(entry.get(closing)):
            times = f"{_clock(entry[opening])}-{_clock(entry[closing])}"
        else:
            times = ""
        by_time.setdefault(times, set()).update(days)
    parts = [f"{_day_span(days)} {times}".strip() for times, days in by_time.items()]
    text = "; ".join(parts)
    return text if len(text) <= MAX_HOURS_TEXT else text[: MAX_HOURS_TEXT - 1] + "…"


def _day_span(days: set[str]) -> str:
    ordered = sorted(days, key=DAYS.index)
    runs: list[list[str]] = []
    for day in ordered:
        if runs and DAYS.index(day) == DAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    labels = []
    for run in runs:
        if len(run) >= 3:
            labels.append(f"{run[0].title()}-{run[-1].title()}")
        else:
            labels.extend(d.title() for d in run)
    return ", ".join(labels)


def _clock(value: str) -> str:
    parts = str(value).split(":")
    try:
        return f"{int(parts[0])}:{parts[1][:2]}" if len(parts) > 1 else str(value)
    except ValueError:
        return str(value)


def _plan_code(network: Resource) -> str:
    values = [
        _text(i.get("value")) for i in _list(network.get("identifier")) if isinstance(i, dict)
    ]
    for value in [*values, _text(network.get("id"))]:
        slug = re.sub(r"[^a-z0-9]+", "-", fold(value)).strip("-")[:MAX_PLAN_CODE].rstrip("-")
        if slug:
            return slug
    return ""


def _line_of_business(plan: Resource) -> str | None:
    concepts = [c for c in _list(plan.get("type")) if isinstance(c, dict)]
    for concept in concepts:
        for code in _codes(concept):
            if code.lower() in LINE_OF_BUSINESS_CODES:
                return LINE_OF_BUSINESS_CODES[code.lower()]
    words = " ".join(
        fold(text)
        for concept in concepts
        for text in [_text(concept.get("text"))]
        + [_text(c.get("display")) for c in _codings(concept)]
        if text
    )
    for pattern, line_of_business in LINE_OF_BUSINESS_WORDS:
        if pattern.search(words):
            return line_of_business
    return None


def _plan_provider_id(
    role: Resource,
    network: Resource,
    networks: list[Resource],
    plans: list[Resource],
    index: _Index,
) -> str:
    payers = [
        index.target(plan.get(key)) for plan in plans for key in ("ownedBy", "administeredBy")
    ]
    own = [network, *(p for p in payers if p is not None)]
    candidates = [
        i
        for i in _list(role.get("identifier"))
        if isinstance(i, dict)
        and _text(i.get("value"))
        and i.get("system") != NPI_SYSTEM
        and "NPI" not in _codes(i.get("type"))
    ]
    for identifier in candidates:
        assigner = index.target(identifier.get("assigner"))
        if assigner is not None and any(assigner is o for o in own):
            return _text(identifier["value"])
    others = [n for n in networks if n is not network]
    for identifier in candidates:
        assigner = index.target(identifier.get("assigner"))
        if assigner is None or not any(assigner is o for o in others):
            return _text(identifier["value"])
    return ""


def _accepting(role: Resource, location: Resource, network: Resource, index: _Index) -> str:
    for holder in (role, location):
        general = None
        for ext in _extensions(holder, NEWPATIENTS):
            status = _accepting_status(ext)
            from_network = _sub_extension(ext, "fromNetwork")
            if from_network is None:
                general = general or status
            elif index.target(from_network.get("valueReference")) is network and status:
                return status
        if general:
            return general
    return ""


def _accepting_status(newpatients: dict) -> str:
    accepting = _sub_extension(newpatients, "acceptingPatients")
    if accepting is None:
        return ""
    if isinstance(accepting.get("valueBoolean"), bool):  # Plan-Net 1.0 ballot form
        return "accepting" if accepting["valueBoolean"] else "not_accepting"
    codes = _codes(accepting.get("valueCodeableConcept"))
    # An unknown code passes through, so the validation reports it on accepting_new_patients.
    return ACCEPTING.get(codes[0], codes[0]) if codes else ""


def _date(resource: Resource) -> str:
    meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
    return _text(meta.get("lastUpdated"))[:10]


# --- small helpers -------------------------------------------------------------------------------


def _list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: object) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()


def _join(values: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(v.replace(LIST_SEPARATOR, " ") for v in values if v)


def _extensions(element: dict, url: str) -> list[dict]:
    return [
        e for e in _list(element.get("extension")) if isinstance(e, dict) and e.get("url") == url
    ]


def _sub_extension(extension: dict, url: str) -> dict | None:
    found = _extensions(extension, url)
    return found[0] if found else None


def _codings(concept: object) -> list[dict]:
    if not isinstance(concept, dict):
        return []
    return [c for c in _list(concept.get("coding")) if isinstance(c, dict)]


def _codes(concept: object, system: str | None = None) -> list[str]:
    """Codes of a CodeableConcept, of one code system when given (a ``|version`` suffix allowed)."""
    return [
        _text(c.get("code"))
        for c in _codings(concept)
        if _text(c.get("code"))
        and (system is None or _text(c.get("system")).split("|")[0] == system)
    ]
