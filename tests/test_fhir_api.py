"""The `/fhir` API as a FHIR client meets it, on both engines: the CapabilityStatement against
Plan-Net's, every resource and Bundle valid, reads with their caching headers, searches with
paging, formats and errors, no 500 for any parameter, and round trips through the importer (the
Plan-Net fixture in and out, the roster out and in again, a delta seen at once)."""

import copy
import gzip
import json
import random
import re
from collections import defaultdict
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from fhir.resources.R4B import get_fhir_model_class
from werkzeug.datastructures import MultiDict

from app import create_app
from tests.conftest import EDGE_ROSTER
from tests.plannet_profiles import problems
from tests.test_delta import HEADER, TODAY, group_roster, write
from tests.test_import_doors import BUNDLE, EXPECTED_PLANNET, cli_import

BASE = "http://localhost/fhir"
FHIR_JSON = "application/fhir+json"
PLANNET = "http://hl7.org/fhir/us/davinci-pdex-plan-net/"
PLANNET_SP = PLANNET + "SearchParameter/"
BASE_SP = "http://hl7.org/fhir/SearchParameter/"
NEWPATIENTS = PLANNET + "StructureDefinition/newpatients"
NETWORK_REFERENCE = PLANNET + "StructureDefinition/network-reference"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
SUBSETTED = "SUBSETTED"

# Plan-Net's CapabilityStatement (plan-net), restated: per resource type, its SHALL search
# parameters (besides _id and _lastUpdated), _include and _revinclude values.
PLANNET_SEARCH = {
    "Endpoint": ("organization",),
    "HealthcareService": (
        "location", "coverage-area", "organization", "endpoint", "name", "service-category",
        "service-type", "specialty",
    ),
    "InsurancePlan": (
        "administered-by", "owned-by", "coverage-area", "name", "plan-type", "identifier", "type",
    ),
    "Location": (
        "partof", "organization", "endpoint", "address-city", "address-state",
        "address-postalcode", "address", "type",
    ),
    "Organization": ("partof", "endpoint", "address", "name", "type", "coverage-area"),
    "OrganizationAffiliation": (
        "primary-organization", "participating-organization", "location", "service", "network",
        "endpoint", "role", "specialty",
    ),
    "Practitioner": ("name", "family", "given"),
    "PractitionerRole": (
        "practitioner", "organization", "location", "service", "network", "endpoint", "role",
        "specialty",
    ),
}  # fmt: skip
PLANNET_INCLUDES = {
    "Endpoint": ("Endpoint:organization",),
    "HealthcareService": (
        "HealthcareService:location", "HealthcareService:coverage-area",
        "HealthcareService:organization", "HealthcareService:endpoint",
    ),
    "InsurancePlan": (
        "InsurancePlan:administered-by", "InsurancePlan:owned-by", "InsurancePlan:coverage-area",
    ),
    "Location": ("Location:endpoint", "Location:organization", "Location:partof"),
    "Organization": ("Organization:partof", "Organization:endpoint", "Organization:coverage-area"),
    "OrganizationAffiliation": (
        "OrganizationAffiliation:primary-organization",
        "OrganizationAffiliation:participating-organization", "OrganizationAffiliation:location",
        "OrganizationAffiliation:service", "OrganizationAffiliation:endpoint",
        "OrganizationAffiliation:network",
    ),
    "Practitioner": (),
    "PractitionerRole": (
        "PractitionerRole:practitioner", "PractitionerRole:organization",
        "PractitionerRole:location", "PractitionerRole:service", "PractitionerRole:network",
        "PractitionerRole:endpoint",
    ),
}  # fmt: skip
PLANNET_REVINCLUDES = {
    "Endpoint": (),
    "HealthcareService": ("PractitionerRole:service", "OrganizationAffiliation:service"),
    "InsurancePlan": (),
    "Location": (
        "HealthcareService:location", "InsurancePlan:coverage-area",
        "OrganizationAffiliation:location", "PractitionerRole:location",
    ),
    "Organization": (
        "Endpoint:organization", "HealthcareService:organization",
        "InsurancePlan:administered-by", "InsurancePlan:owned-by",
        "OrganizationAffiliation:primary-organization", "PractitionerRole:organization",
        "PractitionerRole:network", "OrganizationAffiliation:participating-organization",
    ),
    "OrganizationAffiliation": (),
    "Practitioner": ("PractitionerRole:practitioner",),
    "PractitionerRole": (),
}  # fmt: skip
# Plan-Net's SHALL parameters whose definition is base FHIR's, not the IG's own.
BASE_DEFINED = {
    "_id": BASE_SP + "Resource-id",
    "_lastUpdated": BASE_SP + "Resource-lastUpdated",
    ("Practitioner", "family"): BASE_SP + "Practitioner-family",
    ("Practitioner", "given"): BASE_SP + "Practitioner-given",
}
PLANNET_PROFILES = {
    kind: PLANNET + f"StructureDefinition/plannet-{kind}" for kind in PLANNET_SEARCH
} | {"Network": PLANNET + "StructureDefinition/plannet-Network"}
TYPES = tuple(PLANNET_SEARCH)


# --- talking to /fhir ------------------------------------------------------------------------


def fetch(client, url: str, method: str = "get", **kwargs):
    """A response to a request made as a FHIR client makes it; never a 500."""
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code < 500, (url, response.status_code, response.data[:300])
    if response.status_code != 304:
        assert response.headers["Content-Type"].startswith(FHIR_JSON), url
    return response


def body(client, url: str, **kwargs) -> dict:
    response = fetch(client, url, **kwargs)
    assert response.status_code == 200, (url, response.status_code, response.data[:300])
    return json.loads(response.data)


def outcome(response, status: int, naming: str | None = None) -> dict:
    """The OperationOutcome a failed request answers with; `naming` is what it must name."""
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    found = json.loads(response.data)
    get_fhir_model_class("OperationOutcome").model_validate(found)
    (issue,) = found["issue"]
    assert issue["severity"] == "error"
    if naming is not None:
        assert naming in issue.get("expression", []) or naming in issue["diagnostics"], issue
    return found


def link(bundle: dict, relation: str) -> str | None:
    return next((item["url"] for item in bundle["link"] if item["relation"] == relation), None)


def matches(bundle: dict) -> list[dict]:
    return [e for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def keys_of(bundle: dict) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in matches(bundle)]


def walk(client, url: str) -> list[dict]:
    """Every page of a search, following the next links."""
    pages = [body(client, url)]
    while (following := link(pages[-1], "next")) is not None:
        pages.append(body(client, following))
    return pages


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


@pytest.fixture(scope="module")
def everything(search_app) -> dict[str, list[dict]]:
    """Every page of every resource type at 200 a page, per engine."""
    client = search_app.test_client()
    return {kind: walk(client, f"/fhir/{kind}?_count=200") for kind in TYPES}


def resources(pages: list[dict]) -> list[dict]:
    return [e["resource"] for page in pages for e in matches(page)]


# --- 1. the CapabilityStatement ---------------------------------------------------------------


def test_the_capability_statement_declares_plannet(client):
    statement = body(client, "/fhir/metadata")
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    assert PLANNET + "CapabilityStatement/plan-net" in statement["instantiates"]
    assert {"json", FHIR_JSON} <= set(statement["format"])
    (rest,) = statement["rest"]
    assert rest["mode"] == "server"
    declared = {r["type"]: r for r in rest["resource"]}
    assert set(declared) == set(TYPES)
    for kind in TYPES:
        resource = declared[kind]
        profiles = {PLANNET_PROFILES[kind]}
        if kind == "Organization":
            profiles.add(PLANNET_PROFILES["Network"])
        assert set(resource["supportedProfile"]) == profiles, kind
        assert {i["code"] for i in resource["interaction"]} >= {"read", "vread", "search-type"}
        assert set(resource["searchInclude"]) >= set(PLANNET_INCLUDES[kind]), kind
        assert set(resource["searchRevInclude"]) >= set(PLANNET_REVINCLUDES[kind]), kind
        params = {p["name"]: p for p in resource["searchParam"]}
        assert len(params) == len(resource["searchParam"]), f"{kind} declares a name twice"
        for name in ("_id", "_lastUpdated", *PLANNET_SEARCH[kind]):
            assert name in params, (kind, name)
            expected = BASE_DEFINED.get(name) or BASE_DEFINED.get((kind, name))
            expected = expected or f"{PLANNET_SP}{kind.lower()}-{name}"
            assert params[name]["definition"] == expected, (kind, name)
        for name, param in params.items():
            assert param["documentation"], (kind, name)
            plannet_or_base = param["definition"].startswith((PLANNET_SP, BASE_SP))
            # Our own parameters say so, and live under our own canonical base.
            assert plannet_or_base != param["documentation"].startswith("Custom"), (kind, name)
    # The custom member searches are there, documented.
    custom = {
        (kind, p["name"])
        for kind, r in declared.items()
        for p in r["searchParam"]
        if p["documentation"].startswith("Custom")
    }
    assert custom >= {
        ("Location", "near"),
        ("PractitionerRole", "language"),
        ("PractitionerRole", "new-patient"),
        ("Practitioner", "language"),
    }


def test_the_capability_statement_says_what_the_server_takes(client):
    """Every declared parameter and _include is accepted by a search of its type."""
    statement = body(client, "/fhir/metadata")
    for resource in statement["rest"][0]["resource"]:
        kind = resource["type"]
        for param in resource["searchParam"]:
            name = param["name"]
            value = {"date": "ge2000", "special": "34.05|-118.24|5|mi"}.get(param["type"], "x")
            assert fetch(client, f"/fhir/{kind}?_count=0&{name}={value}").status_code == 200, name
        for value in resource["searchInclude"]:
            response = fetch(client, f"/fhir/{kind}?_count=1&_include={value}")
            assert response.status_code == 200, value
        for value in resource["searchRevInclude"]:
            response = fetch(client, f"/fhir/{kind}?_count=1&_revinclude={value}")
            assert response.status_code == 200, value


# --- 2. every resource and Bundle valid -------------------------------------------------------

# Resources already found valid, by their JSON: both engines serve the same resources, and a
# resource's validity is a matter of its JSON alone.
VALID: set[str] = set()


def test_every_resource_the_api_returns_is_valid_plannet(everything):
    seen_types = set()
    for kind, pages in everything.items():
        total = pages[0]["total"]
        keys = [key for page in pages for key in keys_of(page)]
        assert len(keys) == total == len(set(keys)), kind
        for number, page in enumerate(pages):
            assert page["type"] == "searchset" and page["total"] == total
            # The first page whole; the rest as envelopes (their resources are checked below).
            envelope = page if number == 0 else strip_resources(page)
            get_fhir_model_class("Bundle").model_validate(envelope)
            for entry in matches(page):
                resource = entry["resource"]
                assert resource["resourceType"] == kind
                assert entry["fullUrl"] == f"{BASE}/{kind}/{resource['id']}"
                meta = resource["meta"]
                assert meta["lastUpdated"] and meta["versionId"] and meta["profile"]
                text = json.dumps(resource, sort_keys=True)
                if text not in VALID:
                    get_fhir_model_class(kind).model_validate(resource)
                    assert problems(resource) == [], (kind, resource["id"])
                    VALID.add(text)
                seen_types.add(kind)
    assert seen_types >= {
        "Practitioner",
        "PractitionerRole",
        "Location",
        "Organization",
        "InsurancePlan",
        "HealthcareService",
        "OrganizationAffiliation",
    }


def strip_resources(bundle: dict) -> dict:
    stripped = copy.deepcopy(bundle)
    for entry in stripped.get("entry", []):
        entry.pop("resource", None)
    return stripped


# --- 3. reads ---------------------------------------------------------------------------------


def test_a_read_is_the_resource_the_search_gave(client, everything):
    for kind, pages in everything.items():
        for resource in resources(pages)[:3]:
            assert body(client, f"/fhir/{kind}/{resource['id']}") == resource


def test_reads_carry_etag_and_last_modified(client, everything):
    practitioner = resources(everything["Practitioner"])[0]
    url = f"/fhir/Practitioner/{practitioner['id']}"
    response = fetch(client, url)
    assert response.status_code == 200
    version = practitioner["meta"]["versionId"]
    assert response.headers["ETag"] == f'W/"{version}"'
    modified = parsedate_to_datetime(response.headers["Last-Modified"])
    updated = datetime.fromisoformat(practitioner["meta"]["lastUpdated"].replace("Z", "+00:00"))
    assert modified == updated

    assert fetch(client, url, headers={"If-None-Match": f'W/"{version}"'}).status_code == 304
    assert fetch(client, url, headers={"If-None-Match": 'W/"other"'}).status_code == 200
    later = format_datetime(modified + timedelta(days=1), usegmt=True)
    earlier = format_datetime(modified - timedelta(days=1), usegmt=True)
    assert fetch(client, url, headers={"If-Modified-Since": later}).status_code == 304
    assert fetch(client, url, headers={"If-Modified-Since": earlier}).status_code == 200

    current = fetch(client, f"{url}/_history/{version}")
    assert current.status_code == 200 and json.loads(current.data) == practitioner
    outcome(fetch(client, f"{url}/_history/0{version}"), 404)


def test_unknown_ids_and_types_are_404_operation_outcomes(client):
    outcome(fetch(client, "/fhir/Practitioner/no-such-id"), 404)
    outcome(fetch(client, "/fhir/Practitioner/no-such-id/_history/1"), 404)
    for url in ("/fhir/Patient/1", "/fhir/Patient", "/fhir/Patient/1/_history/1", "/fhir/x/y/z"):
        outcome(fetch(client, url), 404)


def test_writes_are_405_operation_outcomes_with_allow(client, everything):
    practitioner = resources(everything["Practitioner"])[0]
    for url in (f"/fhir/Practitioner/{practitioner['id']}", "/fhir/Practitioner"):
        for method in ("post", "put", "delete", "patch"):
            response = fetch(client, url, method=method, json={"resourceType": "Practitioner"})
            outcome(response, 405)
            allowed = {m.strip() for m in response.headers["Allow"].split(",")}
            assert "GET" in allowed and method.upper() not in allowed


# --- 4. searches ------------------------------------------------------------------------------


def test_paging_walks_every_match_once_both_ways(client):
    first = body(client, "/fhir/PractitionerRole?specialty=207Q00000X&_count=7")
    total = first["total"]
    assert total > 21, "a search with several pages"
    forward = walk(client, link(first, "self"))
    assert forward[0] == first
    keys = [key for page in forward for key in keys_of(page)]
    assert len(keys) == total == len(set(keys))
    assert [len(matches(p)) for p in forward[:-1]] == [7] * (len(forward) - 1)
    # Each self link gives its own page again; previous links walk back through the same pages.
    for page in forward:
        assert body(client, link(page, "self")) == page
        assert dict(query(link(page, "self")))["specialty"] == "207Q00000X"
    backward = [forward[-1]]
    while (previous := link(backward[-1], "previous")) is not None:
        backward.append(body(client, previous))
    assert [keys_of(p) for p in reversed(backward)] == [keys_of(p) for p in forward]
    # The same matches in the same order at another page size.
    larger = walk(client, "/fhir/PractitionerRole?specialty=207Q00000X&_count=200")
    assert [key for page in larger for key in keys_of(page)] == keys


def test_count_zero_and_summary_count_give_the_total_only(client):
    total = body(client, "/fhir/Practitioner?gender=female")["total"]
    for url in (
        "/fhir/Practitioner?gender=female&_count=0",
        "/fhir/Practitioner?gender=female&_summary=count",
    ):
        bundle = body(client, url)
        get_fhir_model_class("Bundle").model_validate(bundle)
        assert bundle["total"] == total > 0
        assert "entry" not in bundle and link(bundle, "next") is None


def test_elements_subsets_each_resource(client):
    full = body(client, "/fhir/Practitioner?_count=5")
    subset = body(client, "/fhir/Practitioner?_count=5&_elements=name")
    assert keys_of(subset) == keys_of(full)
    for whole, part in zip(matches(full), matches(subset), strict=True):
        resource = part["resource"]
        assert set(resource) == {"resourceType", "id", "meta", "name"}
        assert resource["name"] == whole["resource"]["name"]
        assert SUBSETTED in {tag["code"] for tag in resource["meta"]["tag"]}
        get_fhir_model_class("Practitioner").model_validate(resource)


def test_only_json_is_served(client):
    assert body(client, "/fhir/Practitioner?_count=1&_format=json")["total"] > 0
    assert body(client, f"/fhir/Practitioner?_count=1&_format={FHIR_JSON}")["total"] > 0
    escaped = {"_count": "1", "_format": FHIR_JSON}
    assert body(client, "/fhir/Practitioner", query_string=escaped)["total"] > 0
    outcome(fetch(client, "/fhir/Practitioner?_count=1&_format=xml"), 406, "_format")
    outcome(fetch(client, "/fhir/metadata?_format=xml"), 406, "_format")
    for accept in ("application/fhir+xml", "application/xml, text/xml", "text/html"):
        response = fetch(client, "/fhir/Practitioner?_count=1", headers={"Accept": accept})
        outcome(response, 406)
    for accept in (FHIR_JSON, "application/json", "*/*", "text/html, */*;q=0.8", "application/*"):
        response = fetch(client, "/fhir/Practitioner?_count=1", headers={"Accept": accept})
        assert response.status_code == 200, accept


def test_responses_are_gzipped_when_asked(client):
    url = "/fhir/PractitionerRole?_count=50"
    plain = fetch(client, url)
    zipped = fetch(client, url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert json.loads(gzip.decompress(zipped.data)) == json.loads(plain.data)
    assert len(zipped.data) < len(plain.data) / 3


def test_an_unknown_parameter_is_refused_unless_lenient(client):
    outcome(fetch(client, "/fhir/Practitioner?colour=blue"), 400, "colour")
    outcome(fetch(client, "/fhir/Practitioner?gender=female&colour=blue"), 400, "colour")
    lenient = {"Prefer": "handling=lenient"}
    bundle = body(client, "/fhir/Practitioner?gender=female&colour=blue", headers=lenient)
    assert bundle["total"] == body(client, "/fhir/Practitioner?gender=female")["total"]
    self_query = dict(query(link(bundle, "self")))
    assert "colour" not in self_query and self_query["gender"] == "female"
    (note,) = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert note["resource"]["resourceType"] == "OperationOutcome"
    assert "colour" in note["resource"]["issue"][0]["diagnostics"]
    assert "ignored" in note["resource"]["issue"][0]["diagnostics"]
    get_fhir_model_class("Bundle").model_validate(bundle)
    # Strict is the default, and what `Prefer: handling=strict` asks.
    strict = fetch(client, "/fhir/Practitioner?colour=blue", headers={"Prefer": "handling=strict"})
    outcome(strict, 400, "colour")


BAD_VALUES = [
    ("Practitioner", "_lastUpdated", "yesterday"),
    ("Practitioner", "_lastUpdated", "ge2026-13-01"),
    ("PractitionerRole", "period", "2026-02-30"),
    ("Location", "near", "north"),
    ("Location", "near", "34.05|-118.24|5|parsecs"),
    ("Location", "near", "95|-118.24"),
    ("Location", "near", "34.05|-118.24|500"),
    ("PractitionerRole", "location.near", "34.05"),
    ("Practitioner", "_count", "-1"),
    ("Practitioner", "_count", "1000"),
    ("Practitioner", "_count", "ten"),
    ("Practitioner", "_offset", "-5"),
    ("PractitionerRole", "specialty:exact", "207Q00000X"),
    ("PractitionerRole", "specialty:contains", "207Q"),
    ("Practitioner", "name:below", "Ana"),
    ("Practitioner", "name.family", "Ruiz"),
    ("Location", "address-city.name", "Irvine"),
    ("PractitionerRole", "location:Practitioner", "LOC-000001"),
    ("PractitionerRole", "network", "Organization/"),
    ("Practitioner", "gender:missing", "perhaps"),
    ("Practitioner", "_summary", "text"),
    ("Practitioner", "_include", "Practitioner:nothing"),
    ("Practitioner", "_revinclude", "Location:organization"),
    ("Practitioner", "_has:PractitionerRole:specialty", "207Q00000X"),
    ("Practitioner", "_total", "some"),
    ("Practitioner", "_id:exact", "1000109334"),
    ("Practitioner", "_lastUpdated:missing", "true"),
    ("PractitionerRole", "specialty", ""),
    ("PractitionerRole", "specialty", ",".join(f"X{n}" for n in range(600))),
]


@pytest.mark.parametrize(("kind", "name", "value"), BAD_VALUES)
def test_a_bad_value_is_a_400_naming_its_parameter(client, kind, name, value):
    response = fetch(client, f"/fhir/{kind}", query_string={name: value})
    outcome(response, 400, name)


def test_post_search_answers_as_get(client):
    url = (
        "/fhir/PractitionerRole?specialty=207Q00000X&_count=5&_offset=5"
        "&_include=PractitionerRole:location"
    )
    got = body(client, url)
    form = dict(query(url))
    posted = body(client, "/fhir/PractitionerRole/_search", method="post", data=form)
    assert posted == got
    assert posted["total"] > 5 and any(e["search"]["mode"] == "include" for e in got["entry"])
    # Query and form together, as FHIR allows.
    mixed = body(
        client,
        "/fhir/PractitionerRole/_search?specialty=207Q00000X",
        method="post",
        data={"_count": "5", "_offset": "5", "_include": "PractitionerRole:location"},
    )
    assert mixed["entry"] == got["entry"] and mixed["total"] == got["total"]
    outcome(fetch(client, "/fhir/Patient/_search", method="post", data={}), 404)


def test_network_and_new_patient_mean_accepting_under_that_network(client, everything):
    roles = resources(everything["PractitionerRole"])
    status: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for role in roles:
        for network, code in accepting_by_network(role).items():
            status[role["id"]].add((network, code))
    networks = sorted({n for pairs in status.values() for n, _ in pairs})[:2]
    codes = ["newpt", "existptonly"]
    expected = sorted(
        role_id for role_id, pairs in status.items() if any(
            (n, c) in pairs for n in networks for c in codes
        )
    )  # fmt: skip
    assert expected
    found = walk(
        client,
        f"/fhir/PractitionerRole?network={','.join(networks)}&new-patient={','.join(codes)}"
        "&_count=200",
    )
    assert sorted(key.split("/", 1)[1] for page in found for key in keys_of(page)) == expected


def accepting_by_network(role: dict) -> dict[str, str]:
    """{network reference: acceptingPatients code} of a role's newpatients extensions."""
    found = {}
    for extension in role.get("extension", []):
        if extension["url"] != NEWPATIENTS:
            continue
        parts = {p["url"]: p for p in extension["extension"]}
        network = parts.get("fromNetwork", {}).get("valueReference", {}).get("reference")
        code = parts["acceptingPatients"]["valueCodeableConcept"]["coding"][0]["code"]
        found[network] = code
    return found


# Names and values the fuzz draws from: real parameters, modifiers, chains and junk.
FUZZ_NAMES = (
    "_id", "_lastUpdated", "_count", "_offset", "_include", "_revinclude", "_summary",
    "_elements", "_total", "_has:PractitionerRole:location:specialty", "_has:x", "name",
    "family", "given", "gender", "language", "identifier", "specialty", "network", "location",
    "practitioner", "organization", "new-patient", "near", "location.near", "address-city",
    "address", "type", "partof", "period", "role", "service", "name:exact", "name:contains",
    "specialty:text", "gender:missing", "location:Location", "location.address-city",
    "practitioner.name", "organization.partof.name", "network.name", "endpoint", "coverage-area",
    "plan-type", "service-category", "delivery-method", "x", "", ":", ".", "name:", "a.b.c",
)  # fmt: skip
FUZZ_VALUES = (
    "", "x", "0", "-1", "201", "1e9", "Ana", "ruiz", "207Q00000X", "urn:ietf:bcp:47|es", "|es",
    "es|", "female", "true", "false", "Location/LOC-000001", "Organization/", "/", "//",
    "http://x/fhir/Location/1", "ge2026-01-01", "2026", "2026-13", "2026-02-30T25:61",
    "eb2026-01-01T00:00:00+14:00", "34.05|-118.24", "34.05|-118.24|5|km", "nan|nan", "inf|0|1",
    "34|-118|0", "a,b,c", "\\,", "\\", "%", "_", "'; DROP TABLE resources; --", "\u00e9\u00f1",
    "*", "PractitionerRole:location", "Practitioner:name", "count", "data", "name,gender",
    "a" * 300,
)  # fmt: skip


def test_no_parameter_makes_a_500(client):
    """A bounded, repeatable fuzz: random names and values, one to three at a time, on every
    type; only 200, 400 or 404 may come back."""
    chance = random.Random(20261201)
    statuses = defaultdict(int)
    for _ in range(200):
        kind = chance.choice(TYPES)
        params = [
            (chance.choice(FUZZ_NAMES), chance.choice(FUZZ_VALUES))
            for _ in range(chance.randint(1, 3))
        ]
        method = chance.choice(("get", "get", "post"))
        if method == "get":
            response = fetch(client, f"/fhir/{kind}", query_string=params)
        else:
            form = MultiDict(params)
            response = fetch(client, f"/fhir/{kind}/_search", method="post", data=form)
        assert response.status_code in (200, 400, 404), (kind, params, response.data[:300])
        if response.status_code == 400:
            outcome(response, 400)
        statuses[response.status_code] += 1
    # Both kinds of answer were drawn, so the fuzz tried what works and what does not.
    assert statuses[200] > 20 and statuses[400] > 20, dict(statuses)


# --- 5. round trips ---------------------------------------------------------------------------


def fetch_all(client) -> dict[str, list[dict]]:
    """Every resource of every type through /fhir, by type."""
    return {kind: resources(walk(client, f"/fhir/{kind}?_count=200")) for kind in TYPES}


def plannet_code(text: str) -> str:
    """The directory's plan code of a network identifier: lowercase words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-10:]


# Languages the fixture writes as text, by the code the directory gives them.
LANGUAGE_TEXTS = {"Yoruba": "yo"}
LOW_PROFICIENCY = {"00", "10"}


def fixture_facts() -> dict:
    """What fixtures/plannet/bundle.json says, read with plain code: practitioners, their
    languages, roles per (NPI, location, network), networks and locations."""
    entries = json.loads(BUNDLE.read_text(encoding="utf-8"))["entry"]
    by_ref: dict[str, dict] = {}
    for entry in entries:
        resource = entry["resource"]
        by_ref[f"{resource['resourceType']}/{resource['id']}"] = resource
        by_ref[entry["fullUrl"]] = resource

    def target(reference: str) -> dict:
        return by_ref.get(reference) or by_ref["/".join(reference.split("/")[-2:])]

    found: dict = {"practitioners": {}, "roles": {}, "networks": {}, "locations": {}}
    for resource in by_ref.values():
        if resource["resourceType"] == "Practitioner":
            npi = next(i["value"] for i in resource["identifier"] if i["system"] == NPI_SYSTEM)
            name = resource["name"][0]
            spoken = set()
            for language in resource.get("communication", []):
                levels = {
                    c["code"]
                    for e in language.get("extension", [])
                    for c in e["valueCodeableConcept"]["coding"]
                }
                if levels & LOW_PROFICIENCY:
                    continue
                if language.get("coding"):
                    spoken.add(language["coding"][0]["code"].split("-")[0].lower())
                else:
                    spoken.add(LANGUAGE_TEXTS[language["text"]])
            found["practitioners"][npi] = {
                "family": name["family"],
                "given": name["given"],
                "gender": resource["gender"],
                "languages": spoken,
            }
        elif resource["resourceType"] == "Location":
            address = resource["address"]
            found["locations"][resource["id"]] = {
                "name": resource["name"],
                "address": ", ".join(address["line"]),
                "city": address["city"],
                "state": address["state"],
                "zip": address["postalCode"],
                "phone": digits(resource["telecom"][0]["value"]),
                "position": (resource["position"]["latitude"], resource["position"]["longitude"]),
            }
    for resource in {id(r): r for r in by_ref.values()}.values():
        if resource["resourceType"] != "PractitionerRole" or not resource["active"]:
            continue
        practitioner = target(resource["practitioner"]["reference"])
        npi = next(i["value"] for i in practitioner["identifier"] if i["system"] == NPI_SYSTEM)
        networks = [
            target(e["valueReference"]["reference"])
            for e in resource.get("extension", [])
            if e["url"] == NETWORK_REFERENCE
        ]
        accepting = {}
        for extension in resource.get("extension", []):
            if extension["url"] == NEWPATIENTS:
                parts = {p["url"]: p for p in extension["extension"]}
                code = parts["acceptingPatients"]["valueCodeableConcept"]["coding"][0]["code"]
                network = parts.get("fromNetwork")
                key = target(network["valueReference"]["reference"])["id"] if network else None
                accepting[key] = code
                if network and not networks:  # a role that names its network only here
                    networks.append(target(network["valueReference"]["reference"]))
        specialties = [
            c["code"]
            for concept in resource.get("specialty", []) + resource.get("code", [])
            for c in concept["coding"]
            if c["system"] == NUCC_SYSTEM
        ]
        for network in networks:
            plan = plannet_code(network["identifier"][0]["value"])
            found["networks"][plan] = network["name"]
            for place in resource["location"]:
                location = target(place["reference"])["id"]
                found["roles"][(npi, location, plan)] = {
                    "specialties": specialties,
                    "accepting": accepting.get(network["id"], accepting.get(None)),
                    "plan_provider_id": provider_id(resource, network, target),
                }
    return found


def provider_id(role: dict, network: dict, target) -> str | None:
    """The ID the network knows the role by: assigned by the network, else by its payer, else
    the role's only other identifier."""
    others = [i for i in role.get("identifier", []) if i.get("system") != NPI_SYSTEM]

    def assigned_by(organization: dict) -> str | None:
        return next(
            (
                i["value"]
                for i in others
                if "assigner" in i and target(i["assigner"]["reference"]) is organization
            ),
            None,
        )

    payer = target(network["partOf"]["reference"]) if network.get("partOf") else None
    unassigned = [i["value"] for i in others if "assigner" not in i]
    return assigned_by(network) or (payer and assigned_by(payer)) or next(iter(unassigned), None)


def test_the_fixture_restated_agrees_with_what_the_importer_expects():
    """The plain reading above and fixtures/plannet/expected.json name the same roles."""
    roles = fixture_facts()["roles"]
    accepting = {"newpt": "accepting", "nopt": "not_accepting", "existptonly": "existing_only"}
    accepting["existptfam"] = "existing_family"
    expected = {
        (row["npi"], row["location_id"], row["plan"]): (
            row["plan_provider_id"],
            row["accepting_new_patients"],
            row["taxonomy_codes"].split("|"),
        )
        for row in EXPECTED_PLANNET["bundle"]["rows"]
    }
    mine = {
        key: (role["plan_provider_id"], accepting[role["accepting"]], role["specialties"])
        for key, role in roles.items()
    }
    assert mine == expected


def test_the_plannet_fixture_comes_back_through_fhir(fresh_config):
    result = cli_import(fresh_config, BUNDLE)
    assert result.exit_code == 0, (result.output, result.exception)
    served = fetch_all(create_app(fresh_config).test_client())
    fixture = fixture_facts()

    practitioners = {p["id"]: p for p in served["Practitioner"]}
    assert set(practitioners) == set(fixture["practitioners"])
    for npi, facts in fixture["practitioners"].items():
        practitioner = practitioners[npi]
        npis = [i["value"] for i in practitioner["identifier"] if i.get("system") == NPI_SYSTEM]
        assert npis == [npi]
        name = practitioner["name"][0]
        assert (name["family"], name["given"]) == (facts["family"], facts["given"])
        assert practitioner["gender"] == facts["gender"]
        spoken = {c["coding"][0]["code"] for c in practitioner.get("communication", [])}
        assert spoken == facts["languages"], npi

    roles = {}
    for role in served["PractitionerRole"]:
        (network,) = [e for e in role["extension"] if e["url"] == NETWORK_REFERENCE]
        plan = network["valueReference"]["reference"].removeprefix("Organization/network-")
        npi = role["practitioner"]["reference"].removeprefix("Practitioner/")
        location = role["location"][0]["reference"].removeprefix("Location/")
        (code,) = accepting_by_network(role).values()
        roles[(npi, location, plan)] = {
            "specialties": [c["coding"][0]["code"] for c in role["specialty"]],
            "accepting": code,
            "plan_provider_id": role["identifier"][0]["value"],
        }
    assert roles == fixture["roles"]

    networks = {
        o["id"].removeprefix("network-"): o["name"]
        for o in served["Organization"]
        if o["id"].startswith("network-")
    }
    assert networks == fixture["networks"]

    locations = {
        loc["id"]: {
            "name": loc["name"],
            "address": ", ".join(loc["address"]["line"]),
            "city": loc["address"]["city"],
            "state": loc["address"]["state"],
            "zip": loc["address"]["postalCode"],
            "phone": digits(loc["telecom"][0]["value"]),
            "position": (loc["position"]["latitude"], loc["position"]["longitude"]),
        }
        for loc in served["Location"]
    }
    assert locations == fixture["locations"]


# What a provider's /v1 record holds that Plan-Net does not carry, so the round trip leaves it
# out (the same list as tests/test_fhir_resources.py NOT_CARRIED, as /v1 names the fields).
NOT_CARRIED = {
    "age_min": "Plan-Net has no ages seen",
    "age_max": "Plan-Net has no ages seen",
    "pcp_type": "made from the specialty and the ages seen",
    "board_certifications": "written as qualification text, read back only as coded degrees",
    "hospital_affiliations": "Plan-Net says this between organizations, not per practitioner",
    "panel_capacity": "not in Plan-Net",
    "panel_members": "not in Plan-Net",
    "last_verified": "not in Plan-Net",
    "last_updated": "a shared Location is as new as the newest provider there",
    "source": "the import that brought the record in",
    "hours": "the same week, written again in the reader's words",
    "accessibility": "only what has a Plan-Net code comes back",
    "nonbinary gender": "FHIR gender `other` reads back as blank",
    "organizations": "clinics, labs and pharmacies are not read back: the reader takes "
    "practitioners' roles only",
}
PLAN_FIELDS_CARRIED = ("plan", "plan_name", "line_of_business", "plan_provider_id", "accepting")


def carried(record: dict) -> dict:
    """The facts of a /v1 provider record that Plan-Net carries (see NOT_CARRIED)."""
    kept = {k: v for k, v in record.items() if k not in NOT_CARRIED}
    if kept.get("gender") == "nonbinary":
        kept["gender"] = None
    kept["locations"] = {
        loc["location_id"]: {
            **{k: v for k, v in loc.items() if k not in NOT_CARRIED and k != "plans"},
            "plans": {p["plan"]: [p[f] for f in PLAN_FIELDS_CARRIED] for p in loc["plans"]},
        }
        for loc in record["locations"]
    }
    return kept


def write_ndjson(folder: Path, served: dict[str, list[dict]]) -> list[Path]:
    """One NDJSON file per type, as a bulk export writes them."""
    folder.mkdir()
    paths = []
    for kind, items in served.items():
        if items:
            path = folder / f"{kind}.ndjson"
            path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
            paths.append(path)
    return paths


def test_the_roster_through_fhir_imports_as_the_same_directory(
    client, everything, fresh_config, tmp_path
):
    served = {kind: resources(pages) for kind, pages in everything.items()}
    paths = write_ndjson(tmp_path / "export", served)
    result = cli_import(fresh_config, *paths)
    assert result.exit_code == 0, (result.output, result.exception)
    assert " 0 rejected" in result.output
    again = create_app(fresh_config).test_client()

    practitioners = sorted(p["id"] for p in served["Practitioner"])
    assert practitioners
    for npi in practitioners:
        before = body_v1(client, npi)
        after = body_v1(again, npi)
        assert carried(after) == carried(before), npi
    organizations = [o for o in served["Organization"] if NPI_SYSTEM in json.dumps(o)]
    for organization in organizations[:5]:
        npi = organization["id"]
        assert again.get(f"/v1/providers/{npi}").status_code == 404


def body_v1(client, npi: str) -> dict:
    response = client.get(f"/v1/providers/{npi}")
    assert response.status_code == 200, (npi, response.data[:200])
    return response.json


def test_a_delta_shows_in_fhir_at_once(fresh_config, tmp_path):
    full = cli_import(fresh_config, group_roster(tmp_path), "--source", "group")
    assert full.exit_code == 0, (full.output, full.exception)
    client = create_app(fresh_config).test_client()
    url = "/fhir/PractitionerRole/1234567893-L1-sunrise-medi-cal"
    before = fetch(client, url)
    assert accepting_by_network(json.loads(before.data)) == {
        "Organization/network-sunrise-medi-cal": "newpt"
    }
    delta = write(
        tmp_path / "delta.csv",
        HEADER + ",action,termination_date",
        [
            "1234567893,Ana,Ruiz,207Q00000X,es,L1,90012,sunrise-medi-cal,Sunrise Medi-Cal,"
            f"medi-cal,S1,not_accepting,{TODAY},{TODAY},change,"
        ],
    )
    result = cli_import(fresh_config, delta, "--source", "group", "--mode", "delta")
    assert result.exit_code == 0, (result.output, result.exception)
    # A delta keeps the live generation: only the view the import rebuilt can show the change.
    after = fetch(client, url)
    assert accepting_by_network(json.loads(after.data)) == {
        "Organization/network-sunrise-medi-cal": "nopt"
    }
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = fetch(client, url, headers={"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200
    search = body(client, "/fhir/PractitionerRole?new-patient=nopt&practitioner=1234567893")
    assert keys_of(search) == ["PractitionerRole/1234567893-L1-sunrise-medi-cal"]
    # The other providers are as they were.
    other = body(client, "/fhir/PractitionerRole/1245319599-L2-sunrise-medi-cal")
    assert accepting_by_network(other) == {"Organization/network-sunrise-medi-cal": "newpt"}


def test_a_view_of_an_older_layout_is_rebuilt_by_the_next_request(fresh_config):
    """After an upgrade the view on disk may be of an older layout: the first `/fhir` request
    builds the current one instead of reading the old one wrongly."""
    import sqlite3

    from app.fhir.view import LIVE_NAME, VIEW_VERSION, view_dir

    assert cli_import(fresh_config, EDGE_ROSTER).exit_code == 0
    path = view_dir(fresh_config["PD_DATA_DIR"]) / LIVE_NAME
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'version'")
    db.close()
    client = create_app(fresh_config).test_client()
    assert client.get("/fhir/Practitioner?_summary=count").status_code == 200
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    (version,) = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    db.close()
    assert version == VIEW_VERSION
