"""`/fhir` search, parameter by parameter, on both engines, against answers restated from the
fixture roster (tests/fhir_oracle.py): every Plan-Net SHALL parameter and ours, alone and
combined, modifiers, chains, `_has`, `_lastUpdated`, `near`, `_include` and `_revinclude`.

Each search is paged through to the end and compared as the exact set of ids, with its total.
Codes the roster does not hold (a practitioner's Plan-Net role, an InsurancePlan's product type,
a specialty's display) are taken from the resources as `/fhir` serves them: those searches check
the index against what a client reads, the rest check the directory against the roster.
"""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest

from tests import fhir_oracle
from tests.fhir_oracle import BCP47_SYSTEM, NPI_SYSTEM, NUCC_SYSTEM, ORG_TYPE_SYSTEM, fold

R = fhir_oracle.load()
TYPES = (
    "Endpoint",
    "HealthcareService",
    "InsurancePlan",
    "Location",
    "Organization",
    "OrganizationAffiliation",
    "Practitioner",
    "PractitionerRole",
)
PAGE = 200
EARTH_RADIUS_KM = 6371.0087714
KM_PER_UNIT = {"km": 1.0, "m": 0.001, "mi": 1.609344}
DISTANCE_URL = "http://hl7.org/fhir/StructureDefinition/location-distance"
NETWORK_REFERENCE = (
    "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/network-reference"
)
CATEGORY_SYSTEM = fhir_oracle.SERVICE_CATEGORY_SYSTEM
ABSOLUTE_BASE = "https://directory.example.org/fhir"


# -- asking /fhir ---------------------------------------------------------------------------------


@dataclass
class Answer:
    ids: list[str]  # matches, in the order served
    total: int
    matches: list[dict]  # the match entries
    included: list[dict]  # the include entries


def ask(client, kind: str, query: str, *, ids_only: bool = True) -> Answer:
    """Every page of a search, following `next` links."""
    tail = f"_count={PAGE}" + ("&_elements=id" if ids_only else "")
    url = f"/fhir/{kind}?{query}&{tail}" if query else f"/fhir/{kind}?{tail}"
    matches, included, totals = [], [], set()
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_json())
        bundle = response.get_json()
        assert bundle["type"] == "searchset"
        totals.add(bundle["total"])
        for entry in bundle.get("entry", []):
            mode = entry["search"]["mode"]
            assert mode in ("match", "include"), entry
            (matches if mode == "match" else included).append(entry)
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = None
        if following:
            parts = urlsplit(following[0])
            url = f"{parts.path}?{parts.query}"
    assert len(totals) == 1, totals
    ids = [e["resource"]["id"] for e in matches]
    assert all(e["resource"]["resourceType"] == kind for e in matches)
    return Answer(ids, totals.pop(), matches, included)


def assert_finds(client, kind: str, query: str, expected: set[str]) -> Answer:
    answer = ask(client, kind, query)
    found = set(answer.ids)
    assert len(found) == len(answer.ids), "a resource served twice"
    missing, extra = sorted(expected - found), sorted(found - expected)
    assert not missing and not extra, (query, missing[:10], extra[:10])
    assert answer.total == len(expected)
    return answer


@pytest.fixture(scope="module")
def served(search_app) -> dict[str, dict[str, dict]]:
    """Every resource `/fhir` serves, by type and id, fetched once per engine."""
    client = search_app.test_client()
    return {
        kind: {
            e["resource"]["id"]: e["resource"]
            for e in ask(client, kind, "", ids_only=False).matches
        }
        for kind in TYPES
    }


# -- facts picked from the roster -------------------------------------------------------------

PRACTITIONERS = R.practitioners()
ORGANIZATIONS = R.organizations()
ROLES = R.roles()
AFFILIATIONS = R.affiliations()


def _pick(values, n: int = 1, seed: int = 7) -> list:
    return random.Random(seed).sample(sorted(values), n)


SOME_NPI, OTHER_NPI = _pick(PRACTITIONERS, 2)
LICENSED_NPI = next(n for n, p in sorted(PRACTITIONERS.items()) if p.rows[0]["license"])
SOME_ORG = _pick(ORGANIZATIONS)[0]
SOME_LOCATION, OTHER_LOCATION = _pick(R.places, 2)
SMALL_PLAN = min(R.plans, key=lambda c: sum(1 for r in ROLES.values() if r.plan == c))
BIG_PLAN = max(R.plans, key=lambda c: sum(1 for r in ROLES.values() if r.plan == c))
SMALL_GROUP = min(
    R.groups,
    key=lambda g: sum(
        1 for p in PRACTITIONERS.values() if p.group and fhir_oracle.group_id(p.group) == g
    ),
)
SHARED_SERVICES = {s: v for s, v in R.services.items() if not v["owner"]}
OWN_SERVICES = {s: v for s, v in R.services.items() if v["owner"]}
SHARED_SERVICE = _pick(SHARED_SERVICES)[0]
ORG_SERVICE = _pick(OWN_SERVICES)[0]
SOME_PPID, OTHER_PPID = (ROLES[r].plan_provider_id for r in _pick(ROLES, 2))


def roles_where(test: Callable) -> set[str]:
    return {i for i, r in ROLES.items() if test(r, PRACTITIONERS[r.npi])}


def practitioners_where(test: Callable) -> set[str]:
    return {n for n, p in PRACTITIONERS.items() if test(p)}


def named(parts: list[str], prefix: str) -> bool:
    return any(fold(p).startswith(fold(prefix)) for p in parts)


def in_group(p, group: str) -> bool:
    return bool(p.group) and fhir_oracle.group_id(p.group) == group


def places_where(test: Callable) -> set[str]:
    return {i for i, p in R.places.items() if test(p)}


def address_parts(place) -> list[str]:
    return [place.address, place.city, place.state, place.postal_code]


def organization_names() -> dict[str, str]:
    names = {n: p.organization for n, p in ORGANIZATIONS.items()}
    names.update({fhir_oracle.network_id(c): p["name"] for c, p in R.plans.items()})
    names.update({g: p["name"] for g, p in R.groups.items()})
    return names


def organizations_named(prefix: str) -> set[str]:
    return {i for i, name in organization_names().items() if named([name], prefix)}


# -- the cases --------------------------------------------------------------------------------


@dataclass
class Case:
    kind: str
    query: str
    expected: Callable[[dict], set[str]]  # from the resources served, for the few codes the
    # roster does not hold; most cases ignore them

    def __str__(self) -> str:
        return f"{self.kind}?{self.query}"


def case(kind: str, query: str, expected) -> Case:
    if callable(expected):
        return Case(kind, query, expected)
    return Case(kind, query, lambda _served, found=set(expected): found)


def every(kind: str):
    return lambda _served: R.ids(kind)


NOTHING: set[str] = set()

ALL_ROLES = set(ROLES)
CASES = [
    # Practitioner: name (any part, prefix, case and accents folded), family, given
    case(
        "Practitioner",
        "name=gonzalez",
        practitioners_where(lambda p: named(p.name_parts, "gonzalez")),
    ),
    case(
        "Practitioner",
        f"name={quote('GONZÁLEZ')}",
        practitioners_where(lambda p: named(p.name_parts, "gonzalez")),
    ),
    case(
        "Practitioner",
        f"name:exact={quote('González')}",
        practitioners_where(lambda p: "González" in p.name_parts),
    ),
    case("Practitioner", "name:exact=gonzález", NOTHING),
    case(
        "Practitioner",
        f"name:contains={quote('ÁLEZ')}",
        practitioners_where(lambda p: any("alez" in fold(x) for x in p.name_parts)),
    ),
    case("Practitioner", "family=Gonz", practitioners_where(lambda p: named([p.last], "gonz"))),
    case(
        "Practitioner",
        f"family:exact={quote('Núñez')}",
        practitioners_where(lambda p: p.last == "Núñez"),
    ),
    case(
        "Practitioner",
        "given=jos",
        practitioners_where(lambda p: named([p.first, p.middle], "jos")),
    ),
    case(
        "Practitioner",
        f"family={quote('Núñez')},Kim",
        practitioners_where(lambda p: named([p.last], "nunez") or named([p.last], "kim")),
    ),
    case(
        "Practitioner",
        "family=gonz&given=mar",
        practitioners_where(
            lambda p: named([p.last], "gonz") and named([p.first, p.middle], "mar")
        ),
    ),
    case(
        "Practitioner",
        "name=Patricia&name=Mor",
        practitioners_where(
            lambda p: named(p.name_parts, "patricia") and named(p.name_parts, "mor")
        ),
    ),
    # Practitioner: ours and base
    case("Practitioner", "gender=female", practitioners_where(lambda p: p.gender == "female")),
    case(
        "Practitioner",
        "gender=other,unknown",
        practitioners_where(lambda p: p.gender in ("nonbinary", "")),
    ),
    case("Practitioner", "language=es", practitioners_where(lambda p: "es" in p.languages)),
    case(
        "Practitioner",
        f"language={quote(BCP47_SYSTEM + '|hy')}",
        practitioners_where(lambda p: "hy" in p.languages),
    ),
    case(
        "Practitioner",
        "language=ko,vi",
        practitioners_where(lambda p: {"ko", "vi"} & set(p.languages)),
    ),
    case("Practitioner", "language:text=armen", practitioners_where(lambda p: "hy" in p.languages)),
    case(
        "Practitioner",
        "language=es&gender=male",
        practitioners_where(lambda p: "es" in p.languages and p.gender == "male"),
    ),
    case("Practitioner", f"identifier={SOME_NPI}", {SOME_NPI}),
    case(
        "Practitioner",
        f"identifier={quote(NPI_SYSTEM)}|{SOME_NPI},{OTHER_NPI}",
        {SOME_NPI, OTHER_NPI},
    ),
    case("Practitioner", f"identifier=|{SOME_NPI}", NOTHING),
    case(
        "Practitioner",
        f"identifier=|{PRACTITIONERS[LICENSED_NPI].rows[0]['license']}",
        {LICENSED_NPI},
    ),
    case("Practitioner", f"_id={SOME_NPI},{OTHER_NPI},0000000000", {SOME_NPI, OTHER_NPI}),
    # PractitionerRole: references in every form
    case(
        "PractitionerRole",
        f"practitioner=Practitioner/{SOME_NPI}",
        roles_where(lambda r, p: r.npi == SOME_NPI),
    ),
    case(
        "PractitionerRole",
        f"practitioner={SOME_NPI},{OTHER_NPI}",
        roles_where(lambda r, p: r.npi in (SOME_NPI, OTHER_NPI)),
    ),
    case(
        "PractitionerRole",
        f"practitioner={quote(ABSOLUTE_BASE + '/Practitioner/' + SOME_NPI, safe='')}",
        roles_where(lambda r, p: r.npi == SOME_NPI),
    ),
    case(
        "PractitionerRole",
        f"practitioner:Practitioner={SOME_NPI}",
        roles_where(lambda r, p: r.npi == SOME_NPI),
    ),
    case(
        "PractitionerRole",
        f"organization=Organization/{SMALL_GROUP}",
        roles_where(lambda r, p: in_group(p, SMALL_GROUP)),
    ),
    case("PractitionerRole", "organization:missing=true", roles_where(lambda r, p: not p.group)),
    case("PractitionerRole", "organization:missing=false", roles_where(lambda r, p: bool(p.group))),
    case(
        "PractitionerRole",
        f"location=Location/{SOME_LOCATION}",
        roles_where(lambda r, p: r.location == SOME_LOCATION),
    ),
    case(
        "PractitionerRole",
        f"location={SOME_LOCATION},{OTHER_LOCATION}",
        roles_where(lambda r, p: r.location in (SOME_LOCATION, OTHER_LOCATION)),
    ),
    case(
        "PractitionerRole",
        f"service=HealthcareService/{SHARED_SERVICE}",
        roles_where(lambda r, p: R.service_of.get((r.npi, r.location)) == SHARED_SERVICE),
    ),
    case(
        "PractitionerRole",
        "service:missing=true",
        roles_where(lambda r, p: (r.npi, r.location) not in R.service_of),
    ),
    case(
        "PractitionerRole",
        f"network=Organization/network-{SMALL_PLAN}",
        roles_where(lambda r, p: r.plan == SMALL_PLAN),
    ),
    case(
        "PractitionerRole",
        f"network=network-{SMALL_PLAN},network-{BIG_PLAN}",
        roles_where(lambda r, p: r.plan in (SMALL_PLAN, BIG_PLAN)),
    ),
    case("PractitionerRole", "network:missing=true", roles_where(lambda r, p: not r.plan)),
    case("PractitionerRole", "endpoint=Endpoint/endpoint-1", NOTHING),
    case("PractitionerRole", "endpoint:missing=true", ALL_ROLES),
    case(
        "PractitionerRole",
        "specialty=207Q00000X",
        roles_where(lambda r, p: "207Q00000X" in p.taxonomy),
    ),
    case(
        "PractitionerRole",
        f"specialty={quote(NUCC_SYSTEM)}|2084P0804X,207RC0000X",
        roles_where(lambda r, p: {"2084P0804X", "207RC0000X"} & set(p.taxonomy)),
    ),
    case("PractitionerRole", "specialty=|207Q00000X", NOTHING),
    case("PractitionerRole", f"specialty={quote(NUCC_SYSTEM)}|", ALL_ROLES),
    case(
        "PractitionerRole",
        f"identifier={SOME_PPID}",
        roles_where(lambda r, p: r.plan_provider_id == SOME_PPID),
    ),
    case(
        "PractitionerRole",
        f"identifier={SOME_PPID},{OTHER_PPID}",
        roles_where(lambda r, p: r.plan_provider_id in (SOME_PPID, OTHER_PPID)),
    ),
    # PractitionerRole: ours
    case("PractitionerRole", "language=es", roles_where(lambda r, p: "es" in p.languages)),
    case(
        "PractitionerRole",
        "practitioner.language=fa",
        roles_where(lambda r, p: "fa" in p.languages),
    ),
    case(
        "PractitionerRole",
        "practitioner.gender=female",
        roles_where(lambda r, p: p.gender == "female"),
    ),
    case(
        "PractitionerRole",
        "new-patient=newpt",
        roles_where(lambda r, p: r.accepting == "accepting"),
    ),
    case(
        "PractitionerRole",
        "new-patient=existptonly,existptfam",
        roles_where(lambda r, p: r.accepting in ("existing_only", "existing_family")),
    ),
    case(
        "PractitionerRole",
        f"new-patient=newpt&network=Organization/network-{SMALL_PLAN}",
        roles_where(lambda r, p: r.accepting == "accepting" and r.plan == SMALL_PLAN),
    ),
    case(
        "PractitionerRole",
        f"new-patient=nopt,existptfam&network=network-{SMALL_PLAN},network-{BIG_PLAN}",
        roles_where(
            lambda r, p: (
                r.accepting in ("not_accepting", "existing_family")
                and r.plan in (SMALL_PLAN, BIG_PLAN)
            )
        ),
    ),
    # PractitionerRole: forward chains
    case(
        "PractitionerRole",
        f"location.address-city={quote('long beach')}",
        roles_where(lambda r, p: fold(R.places[r.location].city).startswith("long beach")),
    ),
    case(
        "PractitionerRole",
        "location.address-postalcode=9080",
        roles_where(lambda r, p: R.places[r.location].postal_code.startswith("9080")),
    ),
    case("PractitionerRole", "location.address-state=CA", ALL_ROLES),
    case(
        "PractitionerRole",
        "location.address=lakewood",
        roles_where(lambda r, p: named(address_parts(R.places[r.location]), "lakewood")),
    ),
    case(
        "PractitionerRole",
        f"practitioner.name={quote('Núñez')}",
        roles_where(lambda r, p: named(p.name_parts, "nunez")),
    ),
    case(
        "PractitionerRole",
        "practitioner.family=kim",
        roles_where(lambda r, p: named([p.last], "kim")),
    ),
    case(
        "PractitionerRole",
        "network.name=sunrise",
        roles_where(lambda r, p: bool(r.plan) and named([R.plans[r.plan]["name"]], "sunrise")),
    ),
    case(
        "PractitionerRole",
        "organization.name=harbor",
        roles_where(lambda r, p: named([p.group], "harbor") if p.group else False),
    ),
    case(
        "PractitionerRole",
        "service.service-category=prov",
        roles_where(lambda r, p: (r.npi, r.location) in R.service_of),
    ),
    case(
        "PractitionerRole",
        f"service.location=Location/{SOME_LOCATION}",
        roles_where(
            lambda r, p: r.location == SOME_LOCATION and (r.npi, r.location) in R.service_of
        ),
    ),
    case(
        "PractitionerRole",
        f"specialty=207Q00000X&location.address-city={quote('Los Angeles')}&language=es",
        roles_where(
            lambda r, p: (
                "207Q00000X" in p.taxonomy
                and fold(R.places[r.location].city).startswith("los angeles")
                and "es" in p.languages
            )
        ),
    ),
    # Location
    case(
        "Location",
        f"address-city={quote('long beach')}",
        places_where(lambda p: fold(p.city).startswith("long beach")),
    ),
    case(
        "Location",
        f"address-city:exact={quote('Long Beach')}",
        places_where(lambda p: p.city == "Long Beach"),
    ),
    case("Location", "address-city:exact=long beach".replace(" ", "%20"), NOTHING),
    case("Location", "address-city:contains=mont", places_where(lambda p: "mont" in fold(p.city))),
    case("Location", "address-state=ca", set(R.places)),
    case("Location", "address-state=NV", NOTHING),
    case(
        "Location",
        "address-postalcode=91501",
        places_where(lambda p: p.postal_code.startswith("91501")),
    ),
    case(
        "Location",
        "address-postalcode=90808,90713",
        places_where(lambda p: p.postal_code[:5] in ("90808", "90713")),
    ),
    case("Location", "address=lake", places_where(lambda p: named(address_parts(p), "lake"))),
    case("Location", "address=9149", places_where(lambda p: named(address_parts(p), "9149"))),
    case(
        "Location",
        f"address-city={quote('Los Angeles')}&address-postalcode=9001",
        places_where(
            lambda p: fold(p.city).startswith("los angeles") and p.postal_code.startswith("9001")
        ),
    ),
    case("Location", "type=HOSP", NOTHING),
    case("Location", "type:missing=true", set(R.places)),
    case("Location", f"partof=Location/{SOME_LOCATION}", NOTHING),
    case("Location", "partof:missing=true", set(R.places)),
    case("Location", f"organization=Organization/{SOME_ORG}", NOTHING),
    case("Location", "organization:missing=true", set(R.places)),
    case("Location", "endpoint=Endpoint/endpoint-1", NOTHING),
    case("Location", "endpoint:missing=true", set(R.places)),
    case(
        "Location",
        "_has:PractitionerRole:location:specialty=207Q00000X",
        {r.location for r in ROLES.values() if "207Q00000X" in PRACTITIONERS[r.npi].taxonomy},
    ),
    case(
        "Location",
        f"_has:PractitionerRole:location:network=network-{SMALL_PLAN}",
        {r.location for r in ROLES.values() if r.plan == SMALL_PLAN},
    ),
    case(
        "Location",
        "_has:OrganizationAffiliation:location:role=urgent",
        {a.location for a in AFFILIATIONS.values() if ORGANIZATIONS[a.npi].kind == "urgent_care"},
    ),
    # Organization
    case("Organization", "name=harbor", organizations_named("harbor")),
    case("Organization", f"name={quote('clínica')}", organizations_named("clinica")),
    case(
        "Organization",
        "name:contains=medical",
        {i for i, name in organization_names().items() if "medical" in fold(name)},
    ),
    case("Organization", "type=ntwk", {fhir_oracle.network_id(c) for c in R.plans}),
    case(
        "Organization",
        f"type={quote(ORG_TYPE_SYSTEM)}|prvgrp",
        set(R.groups) | {n for n, p in ORGANIZATIONS.items() if p.kind == "other"},
    ),
    case("Organization", "type=fac", {n for n, p in ORGANIZATIONS.items() if p.kind != "other"}),
    case(
        "Organization",
        "address=long",
        {
            n
            for n, p in ORGANIZATIONS.items()
            if any(named(address_parts(R.places[r["location_id"]]), "long") for r in p.rows)
        },
    ),
    case("Organization", f"partof=Organization/network-{SMALL_PLAN}", NOTHING),
    case("Organization", "partof:missing=true", R.ids("Organization")),
    case("Organization", "endpoint=Endpoint/endpoint-1", NOTHING),
    case("Organization", "endpoint:missing=true", R.ids("Organization")),
    case("Organization", f"coverage-area=Location/{SOME_LOCATION}", NOTHING),
    case("Organization", "coverage-area:missing=true", R.ids("Organization")),
    case("Organization", f"identifier={SOME_ORG}", {SOME_ORG}),
    case(
        "Organization",
        "_has:PractitionerRole:network:specialty=2084P0804X",
        {
            fhir_oracle.network_id(r.plan)
            for r in ROLES.values()
            if r.plan and "2084P0804X" in PRACTITIONERS[r.npi].taxonomy
        },
    ),
    case(
        "Organization",
        f"_has:PractitionerRole:organization:location=Location/{SOME_LOCATION}",
        {
            fhir_oracle.group_id(PRACTITIONERS[r.npi].group)
            for r in ROLES.values()
            if r.location == SOME_LOCATION and PRACTITIONERS[r.npi].group
        },
    ),
    case(
        "Organization",
        "_has:OrganizationAffiliation:participating-organization:location.address-city=los%20angeles",
        {
            a.npi
            for a in AFFILIATIONS.values()
            if fold(R.places[a.location].city).startswith("los angeles")
        },
    ),
    # HealthcareService
    case(
        "HealthcareService",
        f"location=Location/{SOME_LOCATION}",
        {s for s, v in R.services.items() if v["location"] == SOME_LOCATION},
    ),
    case("HealthcareService", f"coverage-area=Location/{SOME_LOCATION}", NOTHING),
    case("HealthcareService", "coverage-area:missing=true", R.ids("HealthcareService")),
    case(
        "HealthcareService",
        f"organization=Organization/{SOME_ORG}",
        {s for s, v in OWN_SERVICES.items() if v["owner"] == SOME_ORG},
    ),
    case(
        "HealthcareService",
        "organization:missing=true",
        set(SHARED_SERVICES),
    ),
    case("HealthcareService", "endpoint=Endpoint/endpoint-1", NOTHING),
    case("HealthcareService", "endpoint:missing=true", R.ids("HealthcareService")),
    case(
        "HealthcareService",
        "name=clinica",
        {
            s
            for s, v in OWN_SERVICES.items()
            if named([ORGANIZATIONS[v["owner"]].organization], "clinica")
        },
    ),
    case(
        "HealthcareService",
        "service-category=prov",
        set(SHARED_SERVICES),
    ),
    case(
        "HealthcareService",
        f"service-category={quote(CATEGORY_SYSTEM)}|urg,lab",
        {
            f"{a.npi}-{a.location}"
            for a in AFFILIATIONS.values()
            if ORGANIZATIONS[a.npi].kind in ("urgent_care", "lab")
        },
    ),
    case("HealthcareService", "service-type=394802001", NOTHING),
    case("HealthcareService", "service-type:missing=true", R.ids("HealthcareService")),
    case(
        "HealthcareService",
        "specialty=3336C0003X",
        {
            f"{a.npi}-{a.location}"
            for a in AFFILIATIONS.values()
            if "3336C0003X" in ORGANIZATIONS[a.npi].taxonomy
        },
    ),
    # InsurancePlan
    case("InsurancePlan", "administered-by=Organization/payer-1", NOTHING),
    case("InsurancePlan", "administered-by:missing=true", set(R.plans)),
    case("InsurancePlan", "owned-by=Organization/payer-1", NOTHING),
    case("InsurancePlan", "owned-by:missing=true", set(R.plans)),
    case("InsurancePlan", f"coverage-area=Location/{SOME_LOCATION}", NOTHING),
    case("InsurancePlan", "coverage-area:missing=true", set(R.plans)),
    case(
        "InsurancePlan",
        "name=golden",
        {c for c, p in R.plans.items() if named([p["name"]], "golden")},
    ),
    case("InsurancePlan", f"name:exact={quote(R.plans[SMALL_PLAN]['name'])}", {SMALL_PLAN}),
    case(
        "InsurancePlan",
        "name:contains=advantage",
        {c for c, p in R.plans.items() if "advantage" in fold(p["name"])},
    ),
    case("InsurancePlan", "plan-type=platinum", NOTHING),
    case("InsurancePlan", "plan-type:missing=true", set(R.plans)),
    case("InsurancePlan", f"identifier={SMALL_PLAN}", {SMALL_PLAN}),
    case("InsurancePlan", f"network=Organization/network-{SMALL_PLAN}", {SMALL_PLAN}),
    # OrganizationAffiliation
    case("OrganizationAffiliation", f"primary-organization=Organization/{SOME_ORG}", NOTHING),
    case("OrganizationAffiliation", "primary-organization:missing=true", set(AFFILIATIONS)),
    case(
        "OrganizationAffiliation",
        f"participating-organization=Organization/{SOME_ORG}",
        {i for i, a in AFFILIATIONS.items() if a.npi == SOME_ORG},
    ),
    case(
        "OrganizationAffiliation",
        f"location={next(iter(AFFILIATIONS.values())).location}",
        {
            i
            for i, a in AFFILIATIONS.items()
            if a.location == next(iter(AFFILIATIONS.values())).location
        },
    ),
    case(
        "OrganizationAffiliation",
        f"service=HealthcareService/{ORG_SERVICE}",
        {i for i, a in AFFILIATIONS.items() if f"{a.npi}-{a.location}" == ORG_SERVICE},
    ),
    case(
        "OrganizationAffiliation",
        f"network=Organization/network-{SMALL_PLAN}",
        {i for i, a in AFFILIATIONS.items() if a.plan == SMALL_PLAN},
    ),
    case("OrganizationAffiliation", "endpoint=Endpoint/endpoint-1", NOTHING),
    case("OrganizationAffiliation", "endpoint:missing=true", set(AFFILIATIONS)),
    case(
        "OrganizationAffiliation",
        "role=urgent,laboratory",
        {i for i, a in AFFILIATIONS.items() if ORGANIZATIONS[a.npi].kind in ("urgent_care", "lab")},
    ),
    case(
        "OrganizationAffiliation",
        "specialty=291U00000X",
        {i for i, a in AFFILIATIONS.items() if "291U00000X" in ORGANIZATIONS[a.npi].taxonomy},
    ),
    # Endpoint: the directory has none
    case("Endpoint", f"organization=Organization/{SOME_ORG}", NOTHING),
    case("Endpoint", "organization:missing=true", NOTHING),
    case("Endpoint", "_id=endpoint-1", NOTHING),
]


# Codes the roster does not hold, read from the resources served.


def served_with_code(kind: str, path: str, code: str):
    def expected(served: dict) -> set[str]:
        return {
            i
            for i, resource in served[kind].items()
            for concept in resource.get(path, [])
            for coding in concept.get("coding", [])
            if coding.get("code") == code
        }

    return expected


def served_with_text(kind: str, path: str, words: str):
    """`:text`: a display or text of the concept has a word starting with `words`."""

    def expected(served: dict) -> set[str]:
        found = set()
        for i, resource in served[kind].items():
            for concept in resource.get(path, []):
                texts = [c.get("display") or "" for c in concept.get("coding", [])]
                texts.append(concept.get("text") or "")
                if any((" " + fold(t)).find(" " + words) >= 0 for t in texts):
                    found.add(i)
        return found

    return expected


CASES += [
    case("PractitionerRole", "role=ph", served_with_code("PractitionerRole", "code", "ph")),
    case(
        "PractitionerRole",
        "role=apn,pa",
        lambda s: (
            served_with_code("PractitionerRole", "code", "apn")(s)
            | served_with_code("PractitionerRole", "code", "pa")(s)
        ),
    ),
    case(
        "PractitionerRole",
        "specialty:text=cardio",
        served_with_text("PractitionerRole", "specialty", "cardio"),
    ),
    case(
        "PractitionerRole",
        "role:text=physician",
        served_with_text("PractitionerRole", "code", "physician"),
    ),
    case(
        "InsurancePlan",
        "type=medi",
        served_with_code("InsurancePlan", "type", "medi"),
    ),
    case("InsurancePlan", "type:text=medic", served_with_text("InsurancePlan", "type", "medic")),
]

# `_id` and `_lastUpdated` on every type.
for _kind in TYPES:
    _updated = R.updated(_kind)
    _ids = _pick(_updated, min(2, len(_updated)), seed=11)
    CASES.append(case(_kind, f"_id={','.join([*_ids, 'no-such-id'])}", set(_ids)))
    _days = sorted(set(_updated.values())) or ["2026-06-01"]
    _day = _days[len(_days) // 2]
    _later = _days[(3 * len(_days)) // 4]
    for _prefix, _test in (
        ("eq", lambda d, day=_day: d == day),
        ("ge", lambda d, day=_day: d >= day),
        ("le", lambda d, day=_day: d <= day),
        ("gt", lambda d, day=_day: d > day),
        ("lt", lambda d, day=_day: d < day),
    ):
        CASES.append(
            case(
                _kind, f"_lastUpdated={_prefix}{_day}", {i for i, d in _updated.items() if _test(d)}
            )
        )
    CASES.append(
        case(
            _kind,
            f"_lastUpdated=ge{_day}&_lastUpdated=lt{_later}",
            {i for i, d in _updated.items() if _day <= d < _later},
        )
    )
    CASES.append(
        case(
            _kind,
            f"_lastUpdated={_day},{_later}",
            {i for i, d in _updated.items() if d in (_day, _later)},
        )
    )
# A long list of ids: as many as fit in the longest URL the server takes (8,000 bytes).
_MANY_ROLES = sorted(ROLES)[:120]
CASES.append(
    case(
        "PractitionerRole",
        f"_lastUpdated=ge2026-06-01&network=network-{SMALL_PLAN}&_id={','.join(_MANY_ROLES)}",
        {
            i
            for i in _MANY_ROLES
            if ROLES[i].updated >= "2026-06-01" and ROLES[i].plan == SMALL_PLAN
        },
    )
)


@pytest.mark.parametrize("search", CASES, ids=str)
def test_search_finds_what_the_roster_says(client, served, search):
    assert_finds(client, search.kind, search.query, search.expected(served))


def test_the_directory_is_the_roster(client, served):
    """Every resource of every type, and the practitioners' count, as the roster says: no row
    was lost on the way (the directory's own provider record is only a cross-check)."""
    for kind in TYPES:
        assert set(served[kind]) == R.ids(kind), kind
    answer = client.get("/fhir/Practitioner?_summary=count").get_json()
    assert answer["total"] == len(PRACTITIONERS)
    assert "entry" not in answer
    record = client.get(f"/v1/providers/{SOME_NPI}").get_json()
    assert {loc["location_id"] for loc in record["locations"]} == {
        r["location_id"] for r in PRACTITIONERS[SOME_NPI].rows
    }


def test_places_stand_where_the_roster_puts_them(served):
    for place_id, place in R.places.items():
        position = served["Location"][place_id]["position"]
        if place.lat is not None:
            assert (position["latitude"], position["longitude"]) == (place.lat, place.lon)


# -- near ----------------------------------------------------------------------------------------


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) on a sphere of the mean Earth radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _near_points(n: int = 20, seed: int = 2024) -> list[tuple[float, float, float, str]]:
    """(lat, lon, distance, units): centres a little off the roster's places, distances from 1
    to 25 miles written in miles, kilometres or metres."""
    located = sorted((p.lat, p.lon) for p in R.places.values() if p.lat is not None)
    rng = random.Random(seed)
    points = []
    for i in range(n):
        units = ("mi", "km", "m")[i % 3]
        miles = rng.uniform(1.0, 25.0)
        distance = round(miles * KM_PER_UNIT["mi"] / KM_PER_UNIT[units], 3)
        lat, lon = rng.choice(located)
        lat, lon = (
            round(lat + rng.uniform(-0.02, 0.02), 6),
            round(lon + rng.uniform(-0.02, 0.02), 6),
        )
        points.append((lat, lon, distance, units))
    return points


NEAR_POINTS = _near_points()
# Role searches page through every role inside: the six smallest circles keep them quick.
# Distances this close to the radius may round either way.
EDGE_MILES = 1e-6


def positions(served) -> dict[str, tuple[float, float]]:
    """Each place's position: the roster's, else where the directory located it (checked above
    to agree wherever the roster gives one)."""
    found = {}
    for place_id, place in R.places.items():
        if place.lat is not None:
            found[place_id] = (place.lat, place.lon)
        else:
            position = served["Location"][place_id]["position"]
            found[place_id] = (position["latitude"], position["longitude"])
    return found


def check_near(answer: Answer, miles_of: dict[str, float], radius_miles: float) -> None:
    inside = {i for i, d in miles_of.items() if d <= radius_miles - EDGE_MILES}
    edge = {i for i, d in miles_of.items() if abs(d - radius_miles) < EDGE_MILES}
    found = set(answer.ids)
    assert inside <= found and found <= inside | edge, (
        sorted(inside - found)[:5],
        sorted(found - inside - edge)[:5],
    )
    assert answer.total == len(found) == len(answer.ids)
    served_miles = []
    for entry in answer.matches:
        (extension,) = entry["search"]["extension"]
        assert extension["url"] == DISTANCE_URL
        value = extension["valueDistance"]
        assert (value["unit"], value["code"]) == ("mi", "[mi_i]")
        assert value["value"] == pytest.approx(miles_of[entry["resource"]["id"]], abs=0.01)
        served_miles.append(value["value"])
    assert served_miles == sorted(served_miles), "not nearest first"
    expected_order = sorted(found, key=lambda i: miles_of[i])
    assert [miles_of[i] for i in answer.ids] == pytest.approx(
        [miles_of[i] for i in expected_order], abs=1e-6
    )


@pytest.mark.parametrize("point", NEAR_POINTS, ids=lambda p: "|".join(map(str, p)))
def test_locations_near_a_point(client, served, point):
    lat, lon, distance, units = point
    radius = distance * KM_PER_UNIT[units] / KM_PER_UNIT["mi"]
    miles_of = {
        i: km_between(lat, lon, *at) / KM_PER_UNIT["mi"] for i, at in positions(served).items()
    }
    answer = ask(client, "Location", f"near={lat}|{lon}|{distance}|{units}")
    assert answer.ids, "a centre with nothing near tells nothing"
    check_near(answer, miles_of, radius)


@pytest.mark.parametrize("point", NEAR_POINTS, ids=lambda p: "|".join(map(str, p)))
def test_roles_near_a_point(client, served, point):
    """PractitionerRole?location.near=: a role is as far as its location, nearest first, and
    combines with other parameters."""
    lat, lon, distance, units = point
    radius = distance * KM_PER_UNIT[units] / KM_PER_UNIT["mi"]
    place_miles = {
        i: km_between(lat, lon, *at) / KM_PER_UNIT["mi"] for i, at in positions(served).items()
    }
    miles_of = {i: place_miles[r.location] for i, r in ROLES.items()}
    answer = ask(client, "PractitionerRole", f"location.near={lat}|{lon}|{distance}|{units}")
    check_near(answer, miles_of, radius)
    spanish = {i: d for i, d in miles_of.items() if "es" in PRACTITIONERS[ROLES[i].npi].languages}
    answer = ask(
        client, "PractitionerRole", f"location.near={lat}|{lon}|{distance}|{units}&language=es"
    )
    check_near(answer, spanish, radius)


@pytest.mark.parametrize("point", NEAR_POINTS[:4], ids=lambda p: "|".join(map(str, p)))
def test_near_combines_with_pairs_absent_values_and_other_types(client, served, point):
    """Near with the network + new-patient pair, with a :missing (rows left out), on
    OrganizationAffiliation, and counted alone (_summary=count)."""
    lat, lon, distance, units = point
    radius = distance * KM_PER_UNIT[units] / KM_PER_UNIT["mi"]
    place_miles = {
        i: km_between(lat, lon, *at) / KM_PER_UNIT["mi"] for i, at in positions(served).items()
    }
    near = f"location.near={lat}|{lon}|{distance}|{units}"
    roles = {i: place_miles[r.location] for i, r in ROLES.items()}
    accepting = {
        i: d
        for i, d in roles.items()
        if ROLES[i].plan == BIG_PLAN and ROLES[i].accepting == "accepting"
    }
    network = f"Organization/network-{BIG_PLAN}"
    check_near(
        ask(client, "PractitionerRole", f"{near}&network={network}&new-patient=newpt"),
        accepting,
        radius,
    )
    unlisted = {i: d for i, d in roles.items() if not ROLES[i].plan}
    check_near(ask(client, "PractitionerRole", f"{near}&network:missing=true"), unlisted, radius)
    affiliations = {i: place_miles[r.location] for i, r in AFFILIATIONS.items()}
    check_near(ask(client, "OrganizationAffiliation", near), affiliations, radius)
    inside = sum(1 for d in roles.values() if d <= radius)
    counted = client.get(f"/fhir/PractitionerRole?{near}&_summary=count").get_json()
    assert counted["total"] == pytest.approx(inside, abs=1) and "entry" not in counted


def test_near_without_units_is_miles_and_without_distance_ten_miles(client, served):
    lat, lon, _distance, _units = NEAR_POINTS[0]
    miles_of = {
        i: km_between(lat, lon, *at) / KM_PER_UNIT["mi"] for i, at in positions(served).items()
    }
    check_near(ask(client, "Location", f"near={lat}|{lon}|7"), miles_of, 7.0)
    check_near(ask(client, "Location", f"near={lat}|{lon}"), miles_of, 10.0)


# -- _include and _revinclude ---------------------------------------------------------------------

# Where each reference parameter reads its references in a resource (Plan-Net's expressions).
REFERENCE_PATHS = {
    "Endpoint:organization": "managingOrganization",
    "HealthcareService:location": "location",
    "HealthcareService:coverage-area": "coverageArea",
    "HealthcareService:organization": "providedBy",
    "HealthcareService:endpoint": "endpoint",
    "InsurancePlan:administered-by": "administeredBy",
    "InsurancePlan:owned-by": "ownedBy",
    "InsurancePlan:coverage-area": "coverageArea",
    "InsurancePlan:network": "network",
    "Location:endpoint": "endpoint",
    "Location:organization": "managingOrganization",
    "Location:partof": "partOf",
    "Organization:partof": "partOf",
    "Organization:endpoint": "endpoint",
    "Organization:coverage-area": None,  # an extension no resource here carries
    "OrganizationAffiliation:primary-organization": "organization",
    "OrganizationAffiliation:participating-organization": "participatingOrganization",
    "OrganizationAffiliation:location": "location",
    "OrganizationAffiliation:service": "healthcareService",
    "OrganizationAffiliation:endpoint": "endpoint",
    "OrganizationAffiliation:network": "network",
    "PractitionerRole:practitioner": "practitioner",
    "PractitionerRole:organization": "organization",
    "PractitionerRole:location": "location",
    "PractitionerRole:service": "healthcareService",
    "PractitionerRole:network": NETWORK_REFERENCE,
    "PractitionerRole:endpoint": "endpoint",
}


def referenced(resource: dict, include: str) -> set[str]:
    """`Type/id` of what a resource's reference parameter points at."""
    path = REFERENCE_PATHS[include]
    if path is None:
        return set()
    if path.startswith("http"):
        values = [
            e.get("valueReference") for e in resource.get("extension", []) if e["url"] == path
        ]
    else:
        found = resource.get(path)
        values = found if isinstance(found, list) else [found]
    return {v["reference"] for v in values if v and v.get("reference")}


# A few resources of each type to start from: with a group, a service and a small network where
# a type has them, so that includes have something to find.
STARTS = {
    "Endpoint": ["endpoint-1"],
    "HealthcareService": [SHARED_SERVICE, ORG_SERVICE],
    "InsurancePlan": [SMALL_PLAN],
    "Location": [SOME_LOCATION, OTHER_LOCATION],
    "Organization": [SOME_ORG, SMALL_GROUP, f"network-{SMALL_PLAN}"],
    "OrganizationAffiliation": _pick(AFFILIATIONS, 3),
    "Practitioner": [SOME_NPI, OTHER_NPI],
    "PractitionerRole": _pick(
        (
            i
            for i, r in ROLES.items()
            if PRACTITIONERS[r.npi].group and (r.npi, r.location) in R.service_of
        ),
        3,
    ),
}
INCLUDES = [
    (kind, include)
    for kind in TYPES
    for include in REFERENCE_PATHS
    if include.startswith(kind + ":")
]
REVINCLUDES = [
    ("HealthcareService", "PractitionerRole:service"),
    ("HealthcareService", "OrganizationAffiliation:service"),
    ("Location", "HealthcareService:location"),
    ("Location", "InsurancePlan:coverage-area"),
    ("Location", "OrganizationAffiliation:location"),
    ("Location", "PractitionerRole:location"),
    ("Organization", "Endpoint:organization"),
    ("Organization", "HealthcareService:organization"),
    ("Organization", "InsurancePlan:administered-by"),
    ("Organization", "InsurancePlan:owned-by"),
    ("Organization", "OrganizationAffiliation:primary-organization"),
    ("Organization", "PractitionerRole:organization"),
    ("Organization", "PractitionerRole:network"),
    ("Organization", "OrganizationAffiliation:participating-organization"),
    ("Organization", "InsurancePlan:network"),
    ("Organization", "OrganizationAffiliation:network"),
    ("Practitioner", "PractitionerRole:practitioner"),
]


def included_keys(answer: Answer) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in answer.included]


@pytest.mark.parametrize("kind,include", INCLUDES, ids=lambda v: v)
def test_include(client, served, kind, include):
    starts = STARTS[kind]
    answer = ask(client, kind, f"_id={','.join(starts)}&_include={include}", ids_only=False)
    matched = {i for i in starts if i in served[kind]}
    assert set(answer.ids) == matched
    expected = set()
    for resource_id in matched:
        expected |= referenced(served[kind][resource_id], include)
    existing = {k for k in expected if k.split("/")[1] in served[k.split("/")[0]]}
    existing -= {f"{kind}/{i}" for i in matched}
    assert sorted(included_keys(answer)) == sorted(existing)
    assert all(e["search"]["mode"] == "include" for e in answer.included)


@pytest.mark.parametrize("kind,revinclude", REVINCLUDES, ids=lambda v: v)
def test_revinclude(client, served, kind, revinclude):
    starts = STARTS[kind]
    answer = ask(client, kind, f"_id={','.join(starts)}&_revinclude={revinclude}", ids_only=False)
    targets = {f"{kind}/{i}" for i in starts}
    source = revinclude.split(":")[0]
    expected = {
        f"{source}/{i}"
        for i, resource in served[source].items()
        if referenced(resource, revinclude) & targets
    }
    assert sorted(included_keys(answer)) == sorted(expected)


def test_include_iterate(client, served):
    """Location -> its roles (revinclude) -> their practitioners (include:iterate)."""
    answer = ask(
        client,
        "Location",
        f"_id={SOME_LOCATION}&_revinclude=PractitionerRole:location"
        "&_include:iterate=PractitionerRole:practitioner",
        ids_only=False,
    )
    roles = {i for i, r in ROLES.items() if r.location == SOME_LOCATION}
    practitioners = {ROLES[i].npi for i in roles}
    assert roles and set(answer.ids) == {SOME_LOCATION}
    assert sorted(included_keys(answer)) == sorted(
        [f"PractitionerRole/{i}" for i in roles] + [f"Practitioner/{n}" for n in practitioners]
    )
    refused = client.get(
        f"/fhir/Location?_id={SOME_LOCATION}&_revinclude=PractitionerRole:location"
        "&_include=PractitionerRole:practitioner"
    )
    assert refused.status_code == 400
