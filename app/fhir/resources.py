"""Provider documents -> HL7 Da Vinci PDex Plan-Net (FHIR R4) resources, as JSON-ready dicts.

One document (see `indexer/documents.py`) gives:

- its provider: a Practitioner (entity type `practitioner`), else a Plan-Net Organization (a
  clinic, lab, pharmacy, hospital or urgent care, by its type-2 NPI);
- per location: a PractitionerRole, or for an organization an OrganizationAffiliation with a
  HealthcareService of its own, carrying every network (plan) the provider is in there, the plan
  provider IDs (each assigned by its network) and whether it accepts new patients per network;
- the shared resources it uses: the Location, each plan's network (Organization, plannet-Network)
  and InsurancePlan, the medical group (Organization, plannet-Organization), and a practitioner's
  HealthcareService per (location, telehealth, staff languages). Each is built only from facts
  every document that yields it shares, so all copies are equal apart from `meta.lastUpdated`.

`indexer/sources/plannet.py` reads Plan-Net back into roster rows; what is written here reads
back to the same directory (tests/test_fhir_resources.py checks it fact by fact). Choices where
the directory knows less than a profile asks for:

- Network.partOf and InsurancePlan.ownedBy / administeredBy (required): the directory does not
  know the payer as a resource, so each is a Reference with only a display, the plan's name.
- A medical group's Organization.address (required): the directory has none; one Address
  carrying a data-absent-reason of `unknown`.
- Practitioner.communication has no communication-proficiency extension: rosters do not say how
  well a language is spoken (the reader counts a language without one).
- Accessibility Plan-Net has no code for (accessible parking and exam room, TTY) is written as
  text; InsurancePlan.plan (metal level) is not written: the directory does not know it.
"""

import hashlib
import re
from collections.abc import Iterator

from app.vocab import languages, plannet
from app.vocab.hours import DAY_MINUTES, weekly_hours
from app.vocab.nucc import describe as describe_specialty
from app.vocab.phones import Phone
from app.vocab.text import fold

MAX_ID = 64
HASH_LENGTH = 10
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
NOT_ID_CHARACTER = re.compile(r"[^A-Za-z0-9\-.]")
NOT_SLUG_CHARACTER = re.compile(r"[^a-z0-9]+")
CREDENTIAL_SEPARATOR = re.compile(r"\s*,\s*")
# v2-0360 degree codes rosters write as credentials (case matters in v2-0360).
DEGREE_CODES = {
    "MD": "Doctor of Medicine",
    "DO": "Doctor of Osteopathy",
    "NP": "Nurse Practitioner",
    "PA": "Physician Assistant",
    "RN": "Registered Nurse",
    "PharmD": "Doctor of Pharmacy",
}
FHIR_GENDERS = {"female": "female", "male": "male", "nonbinary": "other"}
FHIR_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Resource = dict


# --- ids ---------------------------------------------------------------------------------------


def fhir_id(text: str) -> str:
    """`text` when it is a FHIR id already; else its characters outside the id charset made `-`,
    cut to fit, and a short hash of the whole text appended so that two texts never meet."""
    if FHIR_ID.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    return f"{NOT_ID_CHARACTER.sub('-', text)[: MAX_ID - HASH_LENGTH - 1]}-{digest}"


def practitioner_id(npi: str) -> str:
    return fhir_id(npi)


def organization_id(npi: str) -> str:
    return fhir_id(npi)


def location_id(roster_location_id: str) -> str:
    return fhir_id(roster_location_id)


def role_id(npi: str, roster_location_id: str, plan_code: str | None = None) -> str:
    """A practitioner at a location in one network (Plan-Net: one network per role), or in none
    when the directory lists them there without a plan."""
    parts = [npi, location_id(roster_location_id), *([plan_code] if plan_code else [])]
    return fhir_id("-".join(parts))


def affiliation_id(npi: str, roster_location_id: str, plan_code: str | None = None) -> str:
    """The OrganizationAffiliation of an organization at a location in one network (without
    `plan_code`: its HealthcareService there)."""
    return role_id(npi, roster_location_id, plan_code)


def network_id(plan_code: str) -> str:
    return fhir_id(f"network-{plan_code}")


def insurance_plan_id(plan_code: str) -> str:
    return fhir_id(plan_code)


def group_id(medical_group: str) -> str:
    return fhir_id(f"group-{slug(medical_group)}")


def service_id(roster_location_id: str, telehealth: bool, staff_languages: list[str]) -> str:
    """The HealthcareService practitioners share at a location: in person only or with video
    visits, and the languages its staff speak."""
    parts = [location_id(roster_location_id), "virtual" if telehealth else "inperson"]
    return fhir_id("-".join([*parts, *staff_languages]))


def slug(text: str) -> str:
    return NOT_SLUG_CHARACTER.sub("-", fold(text)).strip("-")


# --- one document ------------------------------------------------------------------------------


def resources_of(doc: dict, generated_at: str) -> Iterator[Resource]:
    """Every Plan-Net resource one provider document gives, the shared ones included."""
    instant = _Instants(doc, generated_at)
    practitioner = doc.get("entity_type", "practitioner") == "practitioner"
    if practitioner:
        yield _practitioner(doc, instant.of_doc)
        if doc.get("medical_group"):
            yield _medical_group(doc["medical_group"], instant.of_doc)
    else:
        yield _provider_organization(doc, instant.of_doc)
    yield from _plan_resources(doc, instant)
    for location in doc["locations"]:
        at = instant.of_location(location)
        yield _location(location, at)
        if practitioner:
            service = _shared_service(location, at)
            if service is not None:
                yield service
            for plan in location["plans"] or [None]:
                role_at = instant.instant(plan.get("last_updated")) if plan else at
                yield _practitioner_role(doc, location, plan, service, role_at)
        else:
            yield _organization_service(doc, location, at)
            for plan in location["plans"] or [None]:
                role_at = instant.instant(plan.get("last_updated")) if plan else at
                yield _affiliation(doc, location, plan, role_at)


class _Instants:
    """`meta.lastUpdated` of what a document gives: the newest date of the facts it is made of,
    else the document's, else the time the resources are generated."""

    def __init__(self, doc: dict, generated_at: str) -> None:
        self.generated_at = generated_at
        self.of_doc = self.instant(doc.get("last_updated"))

    def instant(self, *dates) -> str:
        found = [str(d)[:10] for d in dates if d]
        return f"{max(found)}T00:00:00Z" if found else self.generated_at

    def of_location(self, location: dict) -> str:
        dates = [p.get("last_updated") for p in location["plans"] if p.get("last_updated")]
        return self.instant(*dates) if dates else self.of_doc


def _plan_resources(doc: dict, instant: _Instants) -> Iterator[Resource]:
    """Each plan's network and InsurancePlan, once per document."""
    plans: dict[str, tuple[dict, list]] = {}
    for location in doc["locations"]:
        for plan in location["plans"]:
            _first, dates = plans.setdefault(plan["plan"], (plan, []))
            dates.append(plan.get("last_updated") or doc.get("last_updated"))
    for _code, (plan, dates) in sorted(plans.items()):
        at = instant.instant(*dates)
        yield _network(plan, at)
        yield _insurance_plan(plan, at)


# --- the provider ------------------------------------------------------------------------------


def _practitioner(doc: dict, at: str) -> Resource:
    name = doc["name"]
    credentials = _credentials(doc.get("credentials"))
    official = {
        "use": "official",
        "text": doc["display_name"],
        "family": name.get("last"),
        "given": [g for g in (name.get("first"), name.get("middle")) if g],
        "suffix": credentials,
    }
    identifiers = [{"use": "official", "system": plannet.NPI_SYSTEM, "value": doc["npi"]}]
    if doc.get("license"):
        identifiers.append(
            {
                "type": _concept(
                    plannet.IDENTIFIER_TYPE_SYSTEM, plannet.MEDICAL_LICENSE_TYPE, "Medical License"
                ),
                "value": doc["license"],
            }
        )
    resource = {
        "resourceType": "Practitioner",
        "id": practitioner_id(doc["npi"]),
        "meta": _meta(plannet.PRACTITIONER_PROFILE, at),
        "identifier": identifiers,
        "active": True,
        "name": [_pruned(official)],
        "gender": FHIR_GENDERS.get(doc.get("gender") or "", "unknown"),
        "qualification": _qualifications(credentials, doc.get("board_certifications") or []),
        "communication": [_language(tag) for tag in doc.get("languages") or []],
    }
    return _pruned(resource)


def _credentials(text: str | None) -> list[str]:
    return [c for c in CREDENTIAL_SEPARATOR.split(text or "") if c]


def _qualifications(credentials: list[str], board_certifications: list[str]) -> list[dict]:
    """Degrees, then board certifications (as text: no code system names them).

    Degrees are coded in v2-0360 only when every credential has a code there: the reader takes
    coded degrees before name suffixes, so a half-coded list would read back short.
    """
    coded = all(c in DEGREE_CODES for c in credentials)
    degrees = [
        {"code": _concept(plannet.DEGREE_SYSTEM, c, DEGREE_CODES[c]) if coded else {"text": c}}
        for c in credentials
    ]
    boards = [{"code": {"text": board}} for board in board_certifications]
    return degrees + boards


def _provider_organization(doc: dict, at: str) -> Resource:
    addresses = list({_address_key(loc): _address(loc) for loc in doc["locations"]}.values())
    kind = plannet.PROVIDER_GROUP_TYPE if doc["entity_type"] == "other" else plannet.FACILITY_TYPE
    return _pruned(
        {
            "resourceType": "Organization",
            "id": organization_id(doc["npi"]),
            "meta": _meta(plannet.ORGANIZATION_PROFILE, at),
            "identifier": [{"use": "official", "system": plannet.NPI_SYSTEM, "value": doc["npi"]}],
            "active": True,
            "type": [_concept(plannet.ORG_TYPE_SYSTEM, *kind)],
            "name": doc["name"].get("organization") or doc["display_name"],
            "address": addresses,
        }
    )


def _medical_group(name: str, at: str) -> Resource:
    return {
        "resourceType": "Organization",
        "id": group_id(name),
        "meta": _meta(plannet.ORGANIZATION_PROFILE, at),
        "active": True,
        "type": [_concept(plannet.ORG_TYPE_SYSTEM, *plannet.PROVIDER_GROUP_TYPE)],
        "name": name,
        # plannet-Organization requires an address; the directory has none for a group.
        "address": [{"extension": [{"url": plannet.DATA_ABSENT_REASON, "valueCode": "unknown"}]}],
    }


# --- plans -------------------------------------------------------------------------------------


def _network(plan: dict, at: str) -> Resource:
    return {
        "resourceType": "Organization",
        "id": network_id(plan["plan"]),
        "meta": _meta(plannet.NETWORK_PROFILE, at),
        # The reader takes the plan code from the network's first identifier.
        "identifier": [{"value": plan["plan"]}],
        "active": True,
        "type": [_concept(plannet.ORG_TYPE_SYSTEM, *plannet.NETWORK_TYPE)],
        "name": plan["plan_name"],
        "partOf": {"display": plan["plan_name"]},
    }


def _insurance_plan(plan: dict, at: str) -> Resource:
    payer = {"display": plan["plan_name"]}
    return {
        "resourceType": "InsurancePlan",
        "id": insurance_plan_id(plan["plan"]),
        "meta": _meta(plannet.INSURANCE_PLAN_PROFILE, at),
        "identifier": [{"value": plan["plan"]}],
        "status": "active",
        "type": [_product_type(plan["line_of_business"], plan["plan_name"])],
        "name": plan["plan_name"],
        "ownedBy": payer,
        "administeredBy": payer,
        "network": [_network_reference(plan)],
    }


def _product_type(line_of_business: str, plan_name: str) -> dict:
    """InsurancePlan.type: the product type of the line of business, made an HMO's (or, for a
    commercial plan, the kind of product) when the plan's name says so."""
    words = set(slug(plan_name).split("-"))
    code = plannet.PRODUCT_TYPE_OF.get(line_of_business)
    if code is not None:
        if "hmo" in words:
            code = plannet.HMO_PRODUCT_TYPES.get(code, code)
    else:
        kinds = plannet.COMMERCIAL_PRODUCT_WORDS
        code = next((c for word, c in kinds.items() if word in words), None)
    if code is None:
        return {"text": plannet.COMMERCIAL_TEXT}
    display = plannet.PRODUCT_TYPE_DISPLAYS[code]
    return _concept(plannet.INSURANCE_PRODUCT_TYPE_SYSTEM, code, display)


def _network_reference(plan: dict) -> dict:
    return _reference("Organization", network_id(plan["plan"]), plan["plan_name"])


def _network_extensions(plans: list[dict]) -> list[dict]:
    """A network-reference per plan, then a newpatients per plan whose status is known."""
    references = [
        {"url": plannet.NETWORK_REFERENCE, "valueReference": _network_reference(p)} for p in plans
    ]
    return references + [e for e in map(_newpatients, plans) if e is not None]


def _newpatients(plan: dict) -> dict | None:
    code = plannet.NEWPATIENTS_CODE_OF.get(plan.get("accepting") or "")
    if code is None:  # `unknown`: said by saying nothing
        return None
    display = plannet.NEWPATIENTS_DISPLAYS[code]
    accepting = _concept(plannet.ACCEPTING_PATIENTS_SYSTEM, code, display)
    return {
        "url": plannet.NEWPATIENTS,
        "extension": [
            {"url": "acceptingPatients", "valueCodeableConcept": accepting},
            {"url": "fromNetwork", "valueReference": _network_reference(plan)},
        ],
    }


def _plan_identifiers(plans: list[dict]) -> list[dict]:
    """Plan provider IDs, each assigned by its plan's network (how the reader finds them)."""
    return [
        {"value": p["plan_provider_id"], "assigner": _network_reference(p)}
        for p in plans
        if p.get("plan_provider_id")
    ]


# --- locations and what happens there ---------------------------------------------------------


def _location(location: dict, at: str) -> Resource:
    extensions = [
        {"url": plannet.ACCESSIBILITY, "valueCodeableConcept": _accessibility(value)}
        for value in location["accessibility"]
        if value in plannet.ACCESSIBILITY_CODE_OF or value in plannet.ACCESSIBILITY_TEXTS
    ]
    return _pruned(
        {
            "resourceType": "Location",
            "id": location_id(location["location_id"]),
            "meta": _meta(plannet.LOCATION_PROFILE, at),
            "extension": extensions,
            "status": "active",
            "name": location.get("name"),
            "telecom": _telecom(location),
            "address": _address(location),
            "position": {"longitude": location["lon"], "latitude": location["lat"]},
            "hoursOfOperation": _hours_of_operation(location.get("hours")),
        }
    )


def _accessibility(value: str) -> dict:
    """A Plan-Net accessibility code, or text where Plan-Net has none (an extensible binding)."""
    code = plannet.ACCESSIBILITY_CODE_OF.get(value)
    if code is None:
        return {"text": plannet.ACCESSIBILITY_TEXTS[value]}
    return _concept(plannet.ACCESSIBILITY_SYSTEM, code, plannet.ACCESSIBILITY_DISPLAYS[code])


def _address(location: dict) -> dict:
    zip_code = location["zip"]
    if location.get("zip4"):
        zip_code = f"{zip_code}-{location['zip4']}"
    return _pruned(
        {
            "use": "work",
            "type": "physical",
            "line": [location["address"]] if location.get("address") else [],
            "city": location.get("city"),
            "state": location.get("state"),
            "postalCode": zip_code,
        }
    )


def _address_key(location: dict) -> tuple:
    return tuple(location.get(k) for k in ("address", "city", "state", "zip", "zip4"))


def _telecom(location: dict) -> list[dict]:
    if not location.get("phone"):
        return []
    number = str(Phone(location["phone"], location.get("phone_extension") or None))
    return [{"system": "phone", "value": number, "use": "work"}]


def _hours_of_operation(hours: str | None) -> list[dict]:
    """The hours text as Location.hoursOfOperation, one entry per days-and-times of the text."""
    entries = []
    for span in weekly_hours(hours):
        entry: dict = {"daysOfWeek": [FHIR_DAYS[d] for d in span.days]}
        if span.start is None:
            pass  # the days, at times the text does not give
        elif (span.start, span.end) == (0, DAY_MINUTES):
            entry["allDay"] = True
        else:
            entry["openingTime"] = _time(span.start)
            # A day ends at 24:00, which a FHIR time writes as 00:00; past midnight wraps.
            entry["closingTime"] = _time(span.end % DAY_MINUTES)
        entries.append(entry)
    return entries


def _time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _shared_service(location: dict, at: str) -> Resource | None:
    """The service practitioners share at a location, when telehealth or staff languages must be
    said (the reader takes both from a role's services); None when neither."""
    telehealth = bool(location.get("telehealth"))
    staff = list(location.get("staff_languages") or [])
    if not telehealth and not staff:
        return None
    return _pruned(
        {
            "resourceType": "HealthcareService",
            "id": service_id(location["location_id"], telehealth, staff),
            "meta": _meta(plannet.HEALTHCARE_SERVICE_PROFILE, at),
            "extension": _delivery_methods(telehealth),
            "active": True,
            "category": [_service_category("practitioner")],
            "location": [_location_reference(location)],
            "communication": [_language(tag) for tag in staff],
        }
    )


def _delivery_methods(telehealth: bool) -> list[dict]:
    """In person always (a location is a place), and virtual when it offers video visits."""
    methods = plannet.DELIVERY_METHODS
    kinds = [methods[False], *([methods[True]] if telehealth else [])]
    return [
        {
            "url": plannet.DELIVERY_METHOD,
            "extension": [
                {
                    "url": "type",
                    "valueCodeableConcept": _concept(plannet.DELIVERY_METHOD_SYSTEM, *kind),
                }
            ],
        }
        for kind in kinds
    ]


def _practitioner_role(
    doc: dict, location: dict, plan: dict | None, service: Resource | None, at: str
) -> Resource:
    """The practitioner at a location in one network (or in none)."""
    plans = [plan] if plan else []
    group = doc.get("medical_group")
    return _pruned(
        {
            "resourceType": "PractitionerRole",
            "id": role_id(doc["npi"], location["location_id"], plan and plan["plan"]),
            "meta": _meta(plannet.PRACTITIONER_ROLE_PROFILE, at),
            "extension": _network_extensions(plans),
            "identifier": _plan_identifiers(plans),
            "active": True,
            "practitioner": _reference(
                "Practitioner", practitioner_id(doc["npi"]), doc["display_name"]
            ),
            "organization": _reference("Organization", group_id(group), group) if group else None,
            "code": [_provider_role(doc)],
            "specialty": _specialties(doc),
            "location": [_location_reference(location)],
            "healthcareService": [_reference("HealthcareService", service["id"])]
            if service
            else [],
            "telecom": _telecom(location),
        }
    )


def _provider_role(doc: dict) -> dict:
    """PractitionerRole.code from the NUCC classification, else grouping, of the primary
    specialty."""
    # Not `primary_specialty`: the engines keep that for ranking and do not give it back.
    codes = doc.get("specialty_codes") or []
    primary = codes[0] if codes else None
    specialty = describe_specialty(primary) if primary else None
    role = plannet.OTHER_PROVIDER_ROLE
    if specialty is not None:
        role = plannet.PROVIDER_ROLES_BY_CLASSIFICATION.get(
            specialty.classification,
            plannet.PROVIDER_ROLES_BY_GROUPING.get(specialty.grouping, plannet.OTHER_PROVIDER_ROLE),
        )
    return _concept(plannet.PROVIDER_ROLE_SYSTEM, *role)


def _specialties(doc: dict) -> list[dict]:
    """NUCC codings, the primary first; a code NUCC does not have goes as written, undisplayed."""
    concepts = []
    for item in doc["specialties"]:
        known = describe_specialty(item["code"])
        coding = {"system": plannet.NUCC_SYSTEM, "code": item["code"]}
        if known.known:
            coding["display"] = known.nucc_display
        concepts.append({"coding": [coding], "text": item["display"]})
    return concepts


def _organization_service(doc: dict, location: dict, at: str) -> Resource:
    """What an organization offers at a location: its category, specialties, whether it takes
    new patients per network, video visits and the languages its staff speak."""
    plans = location["plans"]
    return _pruned(
        {
            "resourceType": "HealthcareService",
            "id": affiliation_id(doc["npi"], location["location_id"]),
            "meta": _meta(plannet.HEALTHCARE_SERVICE_PROFILE, at),
            "extension": [
                *(e for e in map(_newpatients, plans) if e is not None),
                *_delivery_methods(bool(location.get("telehealth"))),
            ],
            "active": True,
            "providedBy": _organization_reference(doc),
            "category": [_service_category(doc["entity_type"])],
            "specialty": _specialties(doc),
            "location": [_location_reference(location)],
            "name": doc["display_name"],
            "telecom": _telecom(location),
            "communication": [_language(t) for t in location.get("staff_languages") or []],
        }
    )


def _affiliation(doc: dict, location: dict, plan: dict | None, at: str) -> Resource:
    """The organization at a location in one network (or in none)."""
    plans = [plan] if plan else []
    role = plannet.AFFILIATION_ROLES.get(doc["entity_type"], plannet.AFFILIATION_ROLES["other"])
    service = affiliation_id(doc["npi"], location["location_id"])
    return _pruned(
        {
            "resourceType": "OrganizationAffiliation",
            "id": affiliation_id(doc["npi"], location["location_id"], plan and plan["plan"]),
            "meta": _meta(plannet.ORGANIZATION_AFFILIATION_PROFILE, at),
            "identifier": _plan_identifiers(plans),
            "active": True,
            "participatingOrganization": _organization_reference(doc),
            "network": [_network_reference(p) for p in plans],
            "code": [_concept(plannet.AFFILIATION_ROLE_SYSTEM, *role)],
            "specialty": _specialties(doc),
            "location": [_location_reference(location)],
            "healthcareService": [_reference("HealthcareService", service)],
            "telecom": _telecom(location),
        }
    )


# --- small builders ----------------------------------------------------------------------------


def _meta(profile: str, at: str) -> dict:
    return {"lastUpdated": at, "profile": [profile]}


def _reference(kind: str, target_id: str, display: str | None = None) -> dict:
    reference = {"reference": f"{kind}/{target_id}"}
    if display:
        reference["display"] = display
    return reference


def _location_reference(location: dict) -> dict:
    return _reference("Location", location_id(location["location_id"]), location.get("name"))


def _organization_reference(doc: dict) -> dict:
    return _reference("Organization", organization_id(doc["npi"]), doc["display_name"])


def _concept(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _service_category(entity_type: str) -> dict:
    categories = plannet.SERVICE_CATEGORIES
    category = categories.get(entity_type, categories["other"])
    return _concept(plannet.HEALTHCARE_SERVICE_CATEGORY_SYSTEM, *category)


def _language(tag: str) -> dict:
    return {
        "coding": [{"system": plannet.BCP47_SYSTEM, "code": tag, "display": languages.name(tag)}],
        "text": languages.name(tag),
    }


def _pruned(element: dict) -> dict:
    """The element without empty values: FHIR has no empty strings, lists or objects."""
    return {k: v for k, v in element.items() if v is not None and v != "" and v != [] and v != {}}
