"""What HL7 Da Vinci PDex Plan-Net (STU 1.1) makes mandatory, checked on a resource as JSON.

`problems(resource)` lists what a resource lacks for the Plan-Net profile it claims in
`meta.profile`: required elements (1..1, 1..*), fixed values (`active: true`, `status: active`),
codes of required bindings and of the Plan-Net code systems we write, and the profiles'
invariants. The FHIR base rules (types, cardinality of the base resource) are the R4B models'
job; this is the layer above them.

Plan-Net 1.1 allows at most one network-reference per PractitionerRole (a role per network):
checked here too.
"""

import re

SD = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
CS = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
NPI = re.compile(r"^\d{10}$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")

# Code systems and their codes (Plan-Net STU 1.1 CodeSystems).
ACCEPTING_PATIENTS = (CS + "AcceptingPatientsCS", {"newpt", "nopt", "existptonly", "existptfam"})
ACCESSIBILITY = (
    CS + "AccessibilityCS",
    {"cultcomp", "handiaccess", "adacomp", "pubtrans", "anssrvc", "cognitive", "mobility"},
)
DELIVERY_METHOD = (CS + "DeliveryMethodCS", {"virtual", "physical"})
ORG_TYPE = (CS + "OrgTypeCS", {"fac", "prvgrp", "payer", "atyprv", "bus", "ntwk"})
SERVICE_CATEGORY = (
    CS + "HealthcareServiceCategoryCS",
    {
        "behav", "dent", "dme", "emerg", "group", "home", "hosp", "lab", "other", "outpat",
        "prov", "pharm", "trans", "urg", "vis",
    },
)  # fmt: skip
PRODUCT_TYPE = (
    CS + "InsuranceProductTypeCS",
    {
        "commppo", "commhdhp", "commpos", "commhmo", "commepo", "medi", "medihmo", "mediadv",
        "mediadvhmo", "media", "medib", "medid", "mediab", "qhp", "ihs", "fep", "tri", "va",
        "dent", "denthmo", "vis", "vishmo",
    },
)  # fmt: skip
PROVIDER_ROLE = (
    CS + "ProviderRoleCS",
    {
        "ap", "apn", "at", "au", "bh", "ba", "bt", "cnw", "crnp", "ch", "cs", "co", "dp", "de",
        "drr", "dn", "om", "em", "ho", "lpn", "mt", "ma", "nh", "na", "nu", "ot", "op", "oo",
        "os", "rx", "pt", "ph", "pa", "po", "py", "rn", "rt", "sw", "sp", "sh", "te",
    },
)  # fmt: skip
AFFILIATION_ROLE = (
    CS + "OrganizationAffiliationRoleCS",
    {
        "behavioral", "bt", "dme", "group", "home", "hospital", "laboratory", "other",
        "outpatient", "pharmacy", "transport", "urgent", "hospice", "nurseCustodial",
        "residential", "respite", "retail",
    },
)  # fmt: skip
LANGUAGE_PROFICIENCY = {"00", "10", "20", "30", "40", "50"}
DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
GENDERS = {"male", "female", "other", "unknown"}


def problems(resource: dict) -> list[str]:
    """Everything the resource lacks for its Plan-Net profile; [] when it conforms."""
    found: list[str] = []
    meta = resource.get("meta") or {}
    profiles = meta.get("profile") or []
    if not FHIR_ID.match(str(resource.get("id", ""))):
        found.append(f"id {resource.get('id')!r} is not a FHIR id")
    if not INSTANT.match(str(meta.get("lastUpdated", ""))):
        found.append("meta.lastUpdated is required and must be an instant")
    checks = [CHECKS[p] for p in profiles if p in CHECKS]
    if not checks:
        found.append(f"claims no Plan-Net profile: {profiles}")
    for check in checks:
        check(resource, found)
    _check_references(resource, found)
    return found


# --- per profile ------------------------------------------------------------------------------


def _practitioner(r: dict, found: list[str]) -> None:
    _fixed(r, "active", True, found)
    npis = [i for i in r.get("identifier", []) if i.get("system") == NPI_SYSTEM]
    if not npis or not all(NPI.match(str(i.get("value", ""))) for i in npis):
        found.append("Practitioner.identifier needs the NPI (us-npi, 10 digits)")
    names = r.get("name") or []
    if not names or not all(n.get("family") for n in names):
        found.append("Practitioner.name is required, each with a family name (US Core)")
    if r.get("gender") is not None and r["gender"] not in GENDERS:
        found.append(f"Practitioner.gender {r['gender']!r} is not an administrative gender")
    for q in r.get("qualification", []):
        if not q.get("code"):
            found.append("Practitioner.qualification.code is required")
    for concept in r.get("communication", []):
        for ext in _extensions(concept, "communication-proficiency"):
            codes = _codes(ext.get("valueCodeableConcept"))
            if not codes or not set(codes) <= LANGUAGE_PROFICIENCY:
                found.append(f"communication-proficiency {codes} not in LanguageProficiencyVS")


def _practitioner_role(r: dict, found: list[str]) -> None:
    _fixed(r, "active", True, found)
    if not any(r.get(k) for k in ("practitioner", "organization", "healthcareService", "location")):
        found.append("PractitionerRole needs a practitioner, organization, service or location")
    for telecom in r.get("telecom", []):
        if not telecom.get("system") or not telecom.get("value"):
            found.append("PractitionerRole.telecom needs system and value")
    for concept in r.get("code", []):
        _in_system(concept, PROVIDER_ROLE, "PractitionerRole.code", found)
    _nucc(r.get("specialty", []), "PractitionerRole.specialty", found)
    if r.get("resourceType") == "PractitionerRole" and len(_extensions(r, "network-reference")) > 1:
        found.append("network-reference: one network per role (Plan-Net 1.1)")
    for ext in _extensions(r, "network-reference"):
        if not (ext.get("valueReference") or {}).get("reference"):
            found.append("network-reference needs a valueReference")
    _newpatients(r, found)


def _location(r: dict, found: list[str]) -> None:
    _fixed(r, "status", "active", found)
    if not r.get("name"):
        found.append("Location.name is required (US Core)")
    if not r.get("address"):
        found.append("Location.address is required for a place members visit")
    position = r.get("position")
    if position is not None and not {"latitude", "longitude"} <= set(position):
        found.append("Location.position needs latitude and longitude")
    for entry in r.get("hoursOfOperation", []):
        if not entry.get("daysOfWeek") or not set(entry["daysOfWeek"]) <= DAYS:
            found.append(f"hoursOfOperation.daysOfWeek {entry.get('daysOfWeek')} invalid")
        for key in ("openingTime", "closingTime"):
            if key in entry and not TIME.match(entry[key]):
                found.append(f"hoursOfOperation.{key} {entry[key]!r} is not a FHIR time")
    for ext in _extensions(r, "accessibility"):
        concept = ext.get("valueCodeableConcept")
        if not concept:
            found.append("accessibility needs a valueCodeableConcept")
        elif concept.get("coding"):
            _in_system(concept, ACCESSIBILITY, "accessibility", found)
        elif not concept.get("text"):
            found.append("accessibility has neither a code nor a text")
    _newpatients(r, found)


def _organization(r: dict, found: list[str]) -> None:
    _fixed(r, "active", True, found)
    if not r.get("name"):
        found.append("Organization.name is required (US Core)")
    if not r.get("address"):
        found.append("plannet-Organization.address is required (1..*)")
    types = r.get("type") or []
    if not types:
        found.append("plannet-Organization.type is required (1..*)")
    for concept in types:
        _in_system(concept, ORG_TYPE, "Organization.type", found)


def _network(r: dict, found: list[str]) -> None:
    _fixed(r, "active", True, found)
    if not r.get("name"):
        found.append("Network.name is required (US Core)")
    types = r.get("type") or []
    if len(types) != 1 or _codes(types[0]) != ["ntwk"]:
        found.append("Network.type is required: exactly one, OrgTypeCS#ntwk")
    else:
        _in_system(types[0], ORG_TYPE, "Network.type", found)
    if not r.get("partOf"):
        found.append("Network.partOf is required (1..1)")
    if r.get("telecom"):
        found.append("Network.telecom is not allowed (0..0)")


def _insurance_plan(r: dict, found: list[str]) -> None:
    _fixed(r, "status", "active", found)
    types = r.get("type") or []
    if len(types) != 1:
        found.append("InsurancePlan.type is required (1..1)")
    for concept in types:
        if concept.get("coding"):
            _in_system(concept, PRODUCT_TYPE, "InsurancePlan.type", found)
        elif not concept.get("text"):
            found.append("InsurancePlan.type has neither a code nor a text")
    for key in ("ownedBy", "administeredBy"):
        if not r.get(key):
            found.append(f"InsurancePlan.{key} is required (1..1)")
    plan_networks = [n for p in r.get("plan", []) for n in p.get("network", [])]
    if not r.get("network") and not plan_networks:
        found.append("network-or-plan-Network: InsurancePlan.network or plan.network")
    plan_types = [c for p in r.get("plan", []) for c in _codes(p.get("type"))]
    if len(plan_types) != len(set(plan_types)):
        found.append("plan-type-is-distinct: each plan needs a distinct plan.type")


def _healthcare_service(r: dict, found: list[str]) -> None:
    _fixed(r, "active", True, found)
    categories = r.get("category") or []
    if len(categories) != 1:
        found.append("HealthcareService.category is required (1..1)")
    for concept in categories:
        _in_system(concept, SERVICE_CATEGORY, "HealthcareService.category", found)
    _nucc(r.get("specialty", []), "HealthcareService.specialty", found)
    for ext in _extensions(r, "delivery-method"):
        kinds = [e for e in ext.get("extension", []) if e.get("url") == "type"]
        if len(kinds) != 1:
            found.append("delivery-method needs exactly one type")
        for kind in kinds:
            _in_system(kind.get("valueCodeableConcept"), DELIVERY_METHOD, "delivery type", found)
    _newpatients(r, found)


def _organization_affiliation(r: dict, found: list[str]) -> None:
    _fixed(r, "active", True, found)
    if not r.get("organization") and not r.get("participatingOrganization"):
        found.append("organization-or-participatingOrganization: one is required")
    for concept in r.get("code", []):
        _in_system(concept, AFFILIATION_ROLE, "OrganizationAffiliation.code", found)
    _nucc(r.get("specialty", []), "OrganizationAffiliation.specialty", found)


CHECKS = {
    SD + "plannet-Practitioner": _practitioner,
    SD + "plannet-PractitionerRole": _practitioner_role,
    SD + "plannet-Location": _location,
    SD + "plannet-Organization": _organization,
    SD + "plannet-Network": _network,
    SD + "plannet-InsurancePlan": _insurance_plan,
    SD + "plannet-HealthcareService": _healthcare_service,
    SD + "plannet-OrganizationAffiliation": _organization_affiliation,
}


# --- shared rules -----------------------------------------------------------------------------


def _newpatients(r: dict, found: list[str]) -> None:
    for ext in _extensions(r, "newpatients"):
        parts = ext.get("extension", [])
        accepting = [p for p in parts if p.get("url") == "acceptingPatients"]
        if len(accepting) != 1:
            found.append("newpatients needs exactly one acceptingPatients")
        for part in accepting:
            concept = part.get("valueCodeableConcept")
            _in_system(concept, ACCEPTING_PATIENTS, "newpatients.acceptingPatients", found)
        networks = [p for p in parts if p.get("url") == "fromNetwork"]
        if len(networks) > 1:
            found.append("newpatients has at most one fromNetwork")
        for part in networks:
            if not (part.get("valueReference") or {}).get("reference"):
                found.append("newpatients.fromNetwork needs a valueReference")


def _nucc(concepts: list[dict], where: str, found: list[str]) -> None:
    """A required binding to NUCC: every concept has a NUCC coding."""
    for concept in concepts:
        if not any(c.get("system") == NUCC_SYSTEM and c.get("code") for c in _codings(concept)):
            found.append(f"{where} needs a NUCC coding: {concept}")


def _in_system(concept: dict | None, vocabulary: tuple[str, set], where: str, found: list) -> None:
    system, codes = vocabulary
    codings = _codings(concept)
    if not codings:
        found.append(f"{where} needs a coding from {system}")
    for coding in codings:
        if coding.get("system") != system or coding.get("code") not in codes:
            found.append(f"{where}: {coding.get('system')}#{coding.get('code')} not in {system}")


def _fixed(r: dict, key: str, value, found: list[str]) -> None:
    if r.get(key) != value:
        found.append(f"{r['resourceType']}.{key} must be {value!r}")


def _check_references(node, found: list[str]) -> None:
    """Every literal reference is relative (Type/id): what a bulk export and our API give."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str) and not REFERENCE.match(value):
                found.append(f"reference {value!r} is not Type/id")
            else:
                _check_references(value, found)
    elif isinstance(node, list):
        for value in node:
            _check_references(value, found)


def _extensions(element: dict, name: str) -> list[dict]:
    return [e for e in element.get("extension", []) if e.get("url") == SD + name]


def _codings(concept: dict | None) -> list[dict]:
    return (concept or {}).get("coding") or []


def _codes(concept: dict | None) -> list[str]:
    return [c.get("code") for c in _codings(concept)]
