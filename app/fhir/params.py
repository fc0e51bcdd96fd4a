"""The search parameters of `/fhir`, each declared once: the resource it searches, its type, the
values a resource gives it, what it may chain to, and its definition.

The Plan-Net CapabilityStatement makes every one of its parameters SHALL; they are here with the
IG's canonical definitions. The member searches Plan-Net lacks (language, gender, accepting new
patients, `near`) are ours, declared as custom parameters with definitions under our own base.
The values a resource gives a parameter are read from the resource's JSON by small path functions,
so the search view indexes exactly what a client reads.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

PLANNET_SD = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
PLANNET_SP = "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/"
BASE_SP = "http://hl7.org/fhir/SearchParameter/"
# Our own parameters' canonical base (their definitions are in the CapabilityStatement).
CUSTOM_SP = "urn:provider-directory:fhir:SearchParameter/"

NETWORK_REFERENCE = PLANNET_SD + "network-reference"
NEWPATIENTS = PLANNET_SD + "newpatients"
LOCATION_REFERENCE = PLANNET_SD + "location-reference"
DELIVERY_METHOD = PLANNET_SD + "delivery-method"
PRACTITIONER_PERIOD = PLANNET_SD + "practitioner-period"
ORGANIZATION_PERIOD = "http://hl7.org/fhir/StructureDefinition/organization-period"

STRING, TOKEN, REFERENCE, DATE, SPECIAL = "string", "token", "reference", "date", "special"

# Modifiers by parameter type (what `:x` a parameter takes); `missing` goes with every type.
MODIFIERS = {
    STRING: ("exact", "contains", "missing"),
    TOKEN: ("text", "missing"),
    REFERENCE: ("missing",),
    DATE: ("missing",),
    SPECIAL: (),
}

Coding = tuple[str | None, str, str | None]  # (system, code, display or text)


@dataclass(frozen=True)
class Param:
    resource: str
    name: str
    type: str
    values: Callable[[dict], Iterable] = field(repr=False)
    definition: str
    description: str
    targets: tuple[str, ...] = ()
    chains: tuple[str, ...] = ()
    custom: bool = False

    @property
    def key(self) -> int:
        """How the view stores this parameter's values: a small number, not a name repeated on
        millions of index rows."""
        return PARAM_KEYS[(self.resource, self.name)]


# -- reading values out of a resource -----------------------------------------------------------


def _list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _each(resource: dict, path: str) -> Iterator:
    """The values at a dotted path, lists flattened at every step."""
    current = [resource]
    for step in path.split("."):
        current = [v for item in current if isinstance(item, dict) for v in _list(item.get(step))]
    return iter(current)


def _extensions(element: dict, url: str) -> list[dict]:
    return [e for e in _list(element.get("extension")) if e.get("url") == url]


def codings(resource: dict, path: str) -> Iterator[Coding]:
    """Codes of the CodeableConcepts (or Codings) at a path, with their display, and the
    concept's text as a code-less entry."""
    for concept in _each(resource, path):
        if "code" in concept:
            yield concept.get("system"), concept["code"], concept.get("display")
        for coding in _list(concept.get("coding")):
            if coding.get("code"):
                yield coding.get("system"), coding["code"], coding.get("display")
        if concept.get("text"):
            yield None, "", concept["text"]


def identifiers(resource: dict, path: str = "identifier") -> Iterator[Coding]:
    for identifier in _each(resource, path):
        if identifier.get("value"):
            yield identifier.get("system"), identifier["value"], None


def references(resource: dict, path: str) -> Iterator[str]:
    for ref in _each(resource, path):
        if isinstance(ref, dict) and ref.get("reference"):
            yield ref["reference"]


def strings(resource: dict, path: str) -> Iterator[str]:
    for value in _each(resource, path):
        if isinstance(value, str) and value:
            yield value


def address_parts(resource: dict, path: str = "address") -> Iterator[str]:
    """Every string part of the addresses at a path (line, city, district, state, ZIP, country,
    text), as the base `address` parameter searches them."""
    for address in _each(resource, path):
        for part in ("text", "line", "city", "district", "state", "postalCode", "country"):
            yield from (v for v in _list(address.get(part)) if isinstance(v, str) and v)


def human_names(resource: dict, path: str = "name") -> Iterator[str]:
    for name in _each(resource, path):
        for part in ("text", "family", "given", "prefix", "suffix"):
            yield from (v for v in _list(name.get(part)) if isinstance(v, str) and v)


def extension_references(resource: dict, url: str) -> Iterator[str]:
    for extension in _extensions(resource, url):
        ref = extension.get("valueReference") or {}
        if ref.get("reference"):
            yield ref["reference"]


def periods(resource: dict, path: str) -> Iterator[tuple[str | None, str | None]]:
    for period in _each(resource, path):
        if isinstance(period, dict) and (period.get("start") or period.get("end")):
            yield period.get("start"), period.get("end")


def extension_periods(resource: dict, url: str) -> Iterator[tuple[str | None, str | None]]:
    for extension in _extensions(resource, url):
        period = extension.get("valuePeriod") or {}
        if period.get("start") or period.get("end"):
            yield period.get("start"), period.get("end")


def new_patients(resource: dict) -> Iterator[tuple[str | None, str]]:
    """(network reference or None, acceptingPatients code) of each `newpatients` extension."""
    for extension in _extensions(resource, NEWPATIENTS):
        network, codes = None, []
        for part in _list(extension.get("extension")):
            if part.get("url") == "fromNetwork":
                network = (part.get("valueReference") or {}).get("reference")
            elif part.get("url") == "acceptingPatients":
                concept = part.get("valueCodeableConcept") or {}
                codes = [c["code"] for c in _list(concept.get("coding")) if c.get("code")]
        for code in codes:
            yield network, code


def delivery_methods(resource: dict) -> Iterator[Coding]:
    for extension in _extensions(resource, DELIVERY_METHOD):
        for part in _list(extension.get("extension")):
            if part.get("url") == "type":
                concept = part.get("valueCodeableConcept") or {}
                for coding in _list(concept.get("coding")):
                    if coding.get("code"):
                        yield coding.get("system"), coding["code"], coding.get("display")


def languages(resource: dict) -> Iterator[Coding]:
    yield from codings(resource, "communication.language")
    yield from codings(resource, "communication")


# -- the parameters ---------------------------------------------------------------------------

LOCATION_CHAINS = ("address", "address-postalcode", "address-city", "address-state", "organization")
ORGANIZATION_CHAINS = ("name", "address", "partof", "type")


def _plannet(resource: str, name: str, type_: str, values, description: str, **kw) -> Param:
    slug = f"{resource.lower()}-{name}"
    return Param(resource, name, type_, values, PLANNET_SP + slug, description, **kw)


def _base(resource: str, name: str, type_: str, values, description: str, **kw) -> Param:
    return Param(resource, name, type_, values, f"{BASE_SP}{resource}-{name}", description, **kw)


def _custom(resource: str, name: str, type_: str, values, description: str, **kw) -> Param:
    return Param(
        resource,
        name,
        type_,
        values,
        f"{CUSTOM_SP}{resource.lower()}-{name}",
        description,
        custom=True,
        **kw,
    )


def _ref(path: str):
    return lambda r: references(r, path)


def _codes(path: str):
    return lambda r: codings(r, path)


def _strings(path: str):
    return lambda r: strings(r, path)


PARAMS: tuple[Param, ...] = (
    # Endpoint
    _plannet(
        "Endpoint",
        "organization",
        REFERENCE,
        _ref("managingOrganization"),
        "Organization that manages the endpoint",
        targets=("Organization",),
        chains=ORGANIZATION_CHAINS,
    ),
    # HealthcareService
    _plannet(
        "HealthcareService",
        "location",
        REFERENCE,
        _ref("location"),
        "Location where the service is offered",
        targets=("Location",),
        chains=(*LOCATION_CHAINS, "type", "near"),
    ),
    _plannet(
        "HealthcareService",
        "coverage-area",
        REFERENCE,
        _ref("coverageArea"),
        "Location the service covers",
        targets=("Location",),
    ),
    _plannet(
        "HealthcareService",
        "organization",
        REFERENCE,
        _ref("providedBy"),
        "Organization that provides the service",
        targets=("Organization",),
        chains=ORGANIZATION_CHAINS,
    ),
    _plannet(
        "HealthcareService",
        "endpoint",
        REFERENCE,
        _ref("endpoint"),
        "Technical endpoint of the service",
        targets=("Endpoint",),
        chains=("organization",),
    ),
    _plannet("HealthcareService", "name", STRING, _strings("name"), "Name of the service"),
    _plannet(
        "HealthcareService",
        "service-category",
        TOKEN,
        _codes("category"),
        "Category of the service",
    ),
    _plannet("HealthcareService", "service-type", TOKEN, _codes("type"), "Type of the service"),
    _plannet(
        "HealthcareService", "specialty", TOKEN, _codes("specialty"), "Specialty of the service"
    ),
    _plannet(
        "HealthcareService",
        "delivery-method",
        TOKEN,
        delivery_methods,
        "How the service is delivered (in-person, virtual)",
    ),
    # InsurancePlan
    _plannet(
        "InsurancePlan",
        "administered-by",
        REFERENCE,
        _ref("administeredBy"),
        "Organization that administers the plan",
        targets=("Organization",),
        chains=("name", "partof"),
    ),
    _plannet(
        "InsurancePlan",
        "owned-by",
        REFERENCE,
        _ref("ownedBy"),
        "Organization that owns the plan",
        targets=("Organization",),
        chains=("name", "partof"),
    ),
    _plannet(
        "InsurancePlan",
        "coverage-area",
        REFERENCE,
        _ref("coverageArea"),
        "Location the plan covers",
        targets=("Location",),
    ),
    _plannet(
        "InsurancePlan",
        "name",
        STRING,
        lambda r: [*strings(r, "name"), *strings(r, "alias")],
        "Name or alias of the plan",
    ),
    _plannet("InsurancePlan", "plan-type", TOKEN, _codes("plan.type"), "Type of plan"),
    _plannet("InsurancePlan", "identifier", TOKEN, identifiers, "Identifier of the plan"),
    _plannet("InsurancePlan", "type", TOKEN, _codes("type"), "Product type (line of business)"),
    _plannet(
        "InsurancePlan",
        "network",
        REFERENCE,
        _ref("network"),
        "Network the plan uses",
        targets=("Organization",),
        chains=("name", "partof"),
    ),
    # Location
    _plannet(
        "Location",
        "partof",
        REFERENCE,
        _ref("partOf"),
        "Location this one is part of",
        targets=("Location",),
        chains=("type", "address", "organization"),
    ),
    _plannet(
        "Location",
        "organization",
        REFERENCE,
        _ref("managingOrganization"),
        "Organization that manages the location",
        targets=("Organization",),
        chains=ORGANIZATION_CHAINS,
    ),
    _plannet(
        "Location",
        "endpoint",
        REFERENCE,
        _ref("endpoint"),
        "Technical endpoint of the location",
        targets=("Endpoint",),
        chains=("organization",),
    ),
    _plannet("Location", "address-city", STRING, _strings("address.city"), "City"),
    _plannet("Location", "address-state", STRING, _strings("address.state"), "State"),
    _plannet(
        "Location", "address-postalcode", STRING, _strings("address.postalCode"), "Postal code"
    ),
    _plannet("Location", "address", STRING, address_parts, "Any part of the address"),
    _plannet("Location", "type", TOKEN, _codes("type"), "Type of location"),
    _custom(
        "Location",
        "near",
        SPECIAL,
        lambda r: [],
        "Locations within a distance of a point, nearest first: `lat|lon|distance|units` "
        "(units mi, km or m; distance defaults to 10 mi). Exact great-circle distance; each "
        "entry carries its distance in the location-distance extension of entry.search.",
    ),
    # Organization
    _plannet(
        "Organization",
        "partof",
        REFERENCE,
        _ref("partOf"),
        "Organization this one is part of",
        targets=("Organization",),
        chains=("name", "address", "type"),
    ),
    _plannet(
        "Organization",
        "endpoint",
        REFERENCE,
        _ref("endpoint"),
        "Technical endpoint of the organization",
        targets=("Endpoint",),
        chains=("organization",),
    ),
    _plannet("Organization", "address", STRING, address_parts, "Any part of the address"),
    _plannet(
        "Organization",
        "name",
        STRING,
        lambda r: [*strings(r, "name"), *strings(r, "alias")],
        "Name or alias of the organization",
    ),
    _plannet("Organization", "type", TOKEN, _codes("type"), "Type of organization"),
    _plannet(
        "Organization",
        "coverage-area",
        REFERENCE,
        lambda r: extension_references(r, LOCATION_REFERENCE),
        "Location the organization covers",
        targets=("Location",),
    ),
    _base("Organization", "identifier", TOKEN, identifiers, "Identifier (e.g. NPI)"),
    # OrganizationAffiliation
    _plannet(
        "OrganizationAffiliation",
        "primary-organization",
        REFERENCE,
        _ref("organization"),
        "Organization where the participating organization provides services",
        targets=("Organization",),
        chains=("type", "address", "name", "partof"),
    ),
    _plannet(
        "OrganizationAffiliation",
        "participating-organization",
        REFERENCE,
        _ref("participatingOrganization"),
        "Organization that provides the services",
        targets=("Organization",),
        chains=("type", "address", "name", "partof"),
    ),
    _plannet(
        "OrganizationAffiliation",
        "location",
        REFERENCE,
        _ref("location"),
        "Location of the affiliation",
        targets=("Location",),
        chains=(*LOCATION_CHAINS, "type", "near"),
    ),
    _plannet(
        "OrganizationAffiliation",
        "service",
        REFERENCE,
        _ref("healthcareService"),
        "Service of the affiliation",
        targets=("HealthcareService",),
        chains=("service-category", "organization", "location"),
    ),
    _plannet(
        "OrganizationAffiliation",
        "network",
        REFERENCE,
        _ref("network"),
        "Network of the affiliation",
        targets=("Organization",),
        chains=("name", "partof"),
    ),
    _plannet(
        "OrganizationAffiliation",
        "endpoint",
        REFERENCE,
        _ref("endpoint"),
        "Technical endpoint of the affiliation",
        targets=("Endpoint",),
        chains=("organization",),
    ),
    _plannet("OrganizationAffiliation", "role", TOKEN, _codes("code"), "Role of the affiliation"),
    _plannet(
        "OrganizationAffiliation",
        "specialty",
        TOKEN,
        _codes("specialty"),
        "Specialty of the participating organization",
    ),
    _plannet(
        "OrganizationAffiliation",
        "period",
        DATE,
        lambda r: periods(r, "period"),
        "Period the affiliation is valid",
    ),
    # Practitioner
    _plannet("Practitioner", "name", STRING, human_names, "Any part of the name"),
    _base("Practitioner", "family", STRING, _strings("name.family"), "Family name", chains=()),
    _base("Practitioner", "given", STRING, _strings("name.given"), "Given name"),
    _base("Practitioner", "identifier", TOKEN, identifiers, "Identifier (e.g. NPI)"),
    _base(
        "Practitioner",
        "gender",
        TOKEN,
        lambda r: [(None, r["gender"], None)] if r.get("gender") else [],
        "Gender (male, female, other, unknown)",
    ),
    _custom(
        "Practitioner",
        "language",
        TOKEN,
        languages,
        "A language the practitioner speaks (BCP-47, e.g. `es`; `urn:ietf:bcp:47|es`)",
    ),
    _plannet(
        "Practitioner",
        "period",
        DATE,
        lambda r: extension_periods(r, PRACTITIONER_PERIOD),
        "Period the practitioner is valid",
    ),
    # PractitionerRole
    _plannet(
        "PractitionerRole",
        "practitioner",
        REFERENCE,
        _ref("practitioner"),
        "Practitioner in the role",
        targets=("Practitioner",),
        chains=("name", "family", "given", "gender", "language", "identifier"),
    ),
    _plannet(
        "PractitionerRole",
        "organization",
        REFERENCE,
        _ref("organization"),
        "Organization where the role is available",
        targets=("Organization",),
        chains=ORGANIZATION_CHAINS,
    ),
    _plannet(
        "PractitionerRole",
        "location",
        REFERENCE,
        _ref("location"),
        "Location of the role",
        targets=("Location",),
        chains=(*LOCATION_CHAINS, "type", "near"),
    ),
    _plannet(
        "PractitionerRole",
        "service",
        REFERENCE,
        _ref("healthcareService"),
        "Service of the role",
        targets=("HealthcareService",),
        chains=("service-category", "organization", "location"),
    ),
    _plannet(
        "PractitionerRole",
        "network",
        REFERENCE,
        lambda r: extension_references(r, NETWORK_REFERENCE),
        "Network the role participates in",
        targets=("Organization",),
        chains=("name", "address", "partof", "type"),
    ),
    _plannet(
        "PractitionerRole",
        "endpoint",
        REFERENCE,
        _ref("endpoint"),
        "Technical endpoint of the role",
        targets=("Endpoint",),
        chains=("organization",),
    ),
    _plannet("PractitionerRole", "role", TOKEN, _codes("code"), "Role of the practitioner"),
    _plannet(
        "PractitionerRole", "specialty", TOKEN, _codes("specialty"), "Specialty (NUCC taxonomy)"
    ),
    _plannet(
        "PractitionerRole",
        "period",
        DATE,
        lambda r: periods(r, "period"),
        "Period the role is valid",
    ),
    _base(
        "PractitionerRole",
        "identifier",
        TOKEN,
        identifiers,
        "Identifier of the role: the plan provider ID a member gives the plan",
    ),
    _custom(
        "PractitionerRole",
        "new-patient",
        TOKEN,
        lambda r: [(None, code, None) for _net, code in new_patients(r)],
        "Whether the role accepts new patients: newpt, nopt, existptonly, existptfam "
        "(the newpatients extension). With `network`, the status under that network.",
    ),
    _custom(
        "PractitionerRole",
        "language",
        TOKEN,
        lambda r: [],  # the view copies the practitioner's (ROLE_COPY_KEYS)
        "A language the practitioner speaks: the same as `practitioner.language`",
    ),
)

# Values kept for searches that join two facts of one resource: the acceptingPatients code under
# each network (`network` + `new-patient` means "accepting under that network").
NETWORK_NEW_PATIENT = 0


def network_new_patient(resource: dict) -> Iterator[tuple[str, str]]:
    for network, code in new_patients(resource):
        if network:
            yield network, code


# Parameters every resource type takes, handled by the view itself.
COMMON = ("_id", "_lastUpdated")

RESOURCE_TYPES = (
    "Endpoint",
    "HealthcareService",
    "InsurancePlan",
    "Location",
    "Organization",
    "OrganizationAffiliation",
    "Practitioner",
    "PractitionerRole",
)

# Each parameter's number in the view (0 is NETWORK_NEW_PATIENT); a change here is a new
# view version (app.fhir.view.VIEW_VERSION).
PARAM_KEYS = {(p.resource, p.name): number for number, p in enumerate(PARAMS, start=1)}
# What members ask of a role's practitioner most, copied onto each role by the view so that
# `language=` and `practitioner.gender=` read the role's own rows, not every Spanish speaker's
# roles: Practitioner parameter -> the role's key for it.
ROLE_COPY_KEYS = {"language": PARAM_KEYS[("PractitionerRole", "language")], "gender": -1}
BY_RESOURCE: dict[str, dict[str, Param]] = {t: {} for t in RESOURCE_TYPES}
for _param in PARAMS:
    BY_RESOURCE[_param.resource][_param.name] = _param


def param(resource: str, name: str) -> Param | None:
    return BY_RESOURCE.get(resource, {}).get(name)


# _include / _revinclude each resource type declares (Plan-Net), `Type:param`.
INCLUDES = {
    "Endpoint": ("Endpoint:organization",),
    "HealthcareService": (
        "HealthcareService:location",
        "HealthcareService:coverage-area",
        "HealthcareService:organization",
        "HealthcareService:endpoint",
    ),
    "InsurancePlan": (
        "InsurancePlan:administered-by",
        "InsurancePlan:owned-by",
        "InsurancePlan:coverage-area",
        "InsurancePlan:network",
    ),
    "Location": ("Location:endpoint", "Location:organization", "Location:partof"),
    "Organization": ("Organization:partof", "Organization:endpoint", "Organization:coverage-area"),
    "OrganizationAffiliation": (
        "OrganizationAffiliation:primary-organization",
        "OrganizationAffiliation:participating-organization",
        "OrganizationAffiliation:location",
        "OrganizationAffiliation:service",
        "OrganizationAffiliation:endpoint",
        "OrganizationAffiliation:network",
    ),
    "Practitioner": (),
    "PractitionerRole": (
        "PractitionerRole:practitioner",
        "PractitionerRole:organization",
        "PractitionerRole:location",
        "PractitionerRole:service",
        "PractitionerRole:network",
        "PractitionerRole:endpoint",
    ),
}
REVINCLUDES = {
    "Endpoint": (),
    "HealthcareService": ("PractitionerRole:service", "OrganizationAffiliation:service"),
    "InsurancePlan": (),
    "Location": (
        "HealthcareService:location",
        "InsurancePlan:coverage-area",
        "OrganizationAffiliation:location",
        "PractitionerRole:location",
    ),
    "Organization": (
        "Endpoint:organization",
        "HealthcareService:organization",
        "InsurancePlan:administered-by",
        "InsurancePlan:owned-by",
        "OrganizationAffiliation:primary-organization",
        "PractitionerRole:organization",
        "PractitionerRole:network",
        "OrganizationAffiliation:participating-organization",
        "InsurancePlan:network",
        "OrganizationAffiliation:network",
    ),
    "OrganizationAffiliation": (),
    "Practitioner": ("PractitionerRole:practitioner",),
    "PractitionerRole": (),
}

PROFILES = {
    "Endpoint": (PLANNET_SD + "plannet-Endpoint",),
    "HealthcareService": (PLANNET_SD + "plannet-HealthcareService",),
    "InsurancePlan": (PLANNET_SD + "plannet-InsurancePlan",),
    "Location": (PLANNET_SD + "plannet-Location",),
    "Organization": (PLANNET_SD + "plannet-Organization", PLANNET_SD + "plannet-Network"),
    "OrganizationAffiliation": (PLANNET_SD + "plannet-OrganizationAffiliation",),
    "Practitioner": (PLANNET_SD + "plannet-Practitioner",),
    "PractitionerRole": (PLANNET_SD + "plannet-PractitionerRole",),
}
