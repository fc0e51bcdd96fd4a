"""Provider documents -> Plan-Net resources: valid FHIR (R4B models), what Plan-Net makes
mandatory (tests/plannet_profiles.py), stable ids, shared resources equal wherever they come
from, and the round trip through the Plan-Net reader back to the same directory."""

import copy
import json
from collections import defaultdict
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from app.fhir.resources import (
    affiliation_id,
    fhir_id,
    group_id,
    insurance_plan_id,
    location_id,
    network_id,
    organization_id,
    practitioner_id,
    resources_of,
    role_id,
)
from app.vocab import plannet
from app.vocab.codes import ACCEPTING as OUR_ACCEPTING
from app.vocab.codes import ACCESSIBILITY as OUR_ACCESSIBILITY
from app.vocab.codes import LINES_OF_BUSINESS
from app.vocab.hours import weekly_hours
from indexer.pipeline import collect
from indexer.records import ImportSummary
from indexer.sources.csv_roster import open_roster
from indexer.sources.plannet import read_plannet
from tests.conftest import EDGE_ROSTER
from tests.plannet_profiles import FHIR_ID, problems

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "fixtures" / "plannet" / "bundle.json"
GENERATED_AT = "2026-12-01T10:00:00Z"
# Resources more than one document may give: the store keeps one copy.
SHARED = {"Location", "Organization", "InsurancePlan", "HealthcareService"}

# Facts of a document Plan-Net cannot carry, so the round trip does not compare them.
NOT_CARRIED = {
    "age_min": "Plan-Net has no ages seen (the reader leaves them blank)",
    "age_max": "Plan-Net has no ages seen",
    "board_certifications": "written as Practitioner.qualification text; the reader reads "
    "only coded degrees",
    "hospital_affiliations": "Plan-Net says this with OrganizationAffiliation between "
    "organizations, not per practitioner",
    "panel_capacity": "not in Plan-Net",
    "panel_members": "not in Plan-Net",
    "last_verified": "not in Plan-Net (meta.lastUpdated is the last change, not a verification)",
    "nonbinary gender": "FHIR administrative gender `other`, which the reader reads as blank",
    "accessibility without a Plan-Net code": "accessible parking, exam room and TTY are "
    "written as text, which the reader does not read",
    "organizations": "the reader reads practitioners' roles only; clinics, labs, pharmacies "
    "and urgent cares go out as Organization + OrganizationAffiliation and are checked here "
    "against the profiles, not read back",
}


def documents_of(path) -> list[dict]:
    summary = ImportSummary(source=str(path))
    return list(collect(open_roster(path), summary).documents())


@pytest.fixture(scope="module")
def edge_docs() -> list[dict]:
    return documents_of(EDGE_ROSTER)


@pytest.fixture(scope="module")
def roster_resources(roster_docs) -> list[tuple[dict, list[dict]]]:
    return [(doc, list(resources_of(doc, GENERATED_AT))) for doc in roster_docs]


@pytest.fixture(scope="module")
def edge_resources(edge_docs) -> list[tuple[dict, list[dict]]]:
    return [(doc, list(resources_of(doc, GENERATED_AT))) for doc in edge_docs]


def all_resources(pairs) -> list[dict]:
    return [r for _doc, resources in pairs for r in resources]


def deduplicated(resources: list[dict]) -> dict[str, list[dict]]:
    """By type, one copy per id: the first, with the latest lastUpdated (as the store keeps)."""
    kept: dict[tuple[str, str], dict] = {}
    for resource in resources:
        key = (resource["resourceType"], resource["id"])
        if key not in kept:
            kept[key] = copy.deepcopy(resource)
        else:
            meta = kept[key]["meta"]
            meta["lastUpdated"] = max(meta["lastUpdated"], resource["meta"]["lastUpdated"])
    by_type: dict[str, list[dict]] = defaultdict(list)
    for (kind, _id), resource in kept.items():
        by_type[kind].append(resource)
    return by_type


# --- valid FHIR and Plan-Net ------------------------------------------------------------------


@pytest.mark.parametrize("which", ["roster_resources", "edge_resources"])
def test_every_resource_is_valid_fhir_and_meets_its_plannet_profile(which, request):
    resources = all_resources(request.getfixturevalue(which))
    kinds = {r["resourceType"] for r in resources}
    assert kinds >= {
        "Practitioner",
        "PractitionerRole",
        "Location",
        "Organization",
        "InsurancePlan",
        "HealthcareService",
        "OrganizationAffiliation",
    }
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert problems(resource) == [], (resource["resourceType"], resource["id"])
        # JSON-ready as it is.
        assert json.loads(json.dumps(resource)) == resource


def test_the_profile_checks_can_fail(roster_resources):
    _doc, resources = roster_resources[0]
    role = copy.deepcopy(next(r for r in resources if r["resourceType"] == "PractitionerRole"))
    role["active"] = False
    role["extension"].append(
        {
            "url": plannet.NEWPATIENTS,
            "extension": [
                {
                    "url": "acceptingPatients",
                    "valueCodeableConcept": {"coding": [{"code": "maybe"}]},
                }
            ],
        }
    )
    found = problems(role)
    assert any("active" in p for p in found)
    assert any("acceptingPatients" in p for p in found)
    practitioner = copy.deepcopy(resources[0])
    practitioner["identifier"] = []
    assert any("NPI" in p for p in problems(practitioner))


def test_meta_last_updated_is_the_newest_date_of_the_facts(roster_resources, edge_resources):
    for doc, resources in roster_resources:
        provider = resources[0]
        assert provider["meta"]["lastUpdated"] == f"{doc['last_updated']}T00:00:00Z"
        for resource in resources:
            if resource["resourceType"] == "PractitionerRole":
                dates = [
                    plan["last_updated"] if plan else doc["last_updated"]
                    for loc in doc["locations"]
                    for plan in loc["plans"] or [None]
                    if role_id(doc["npi"], loc["location_id"], plan and plan["plan"])
                    == resource["id"]
                ]
                assert resource["meta"]["lastUpdated"] == f"{dates[0]}T00:00:00Z"
    # A document with no date takes the time the resources were generated.
    undated = [(d, rs) for d, rs in edge_resources if not d.get("last_updated")]
    assert undated
    for _doc, resources in undated:
        assert resources[0]["meta"]["lastUpdated"] == GENERATED_AT


# --- ids -------------------------------------------------------------------------------------


def test_id_helpers():
    assert practitioner_id("1234567893") == organization_id("1234567893") == "1234567893"
    assert location_id("LOC-000317") == "LOC-000317"
    assert role_id("1234567893", "LOC-000317") == "1234567893-LOC-000317"
    assert (
        role_id("1234567893", "LOC-000317", "golden-poppy-medi-cal")
        == "1234567893-LOC-000317-golden-poppy-medi-cal"
    )
    assert affiliation_id("1234567893", "LOC-000317") == "1234567893-LOC-000317"
    assert network_id("sunrise-medi-cal") == "network-sunrise-medi-cal"
    assert insurance_plan_id("sunrise-medi-cal") == "sunrise-medi-cal"
    assert group_id("Eastside Unidos IPA") == "group-eastside-unidos-ipa"
    assert group_id("Clínica Señor & Hijos") == "group-clinica-senor-hijos"
    # Changed or too long: readable head, a hash so that different ids never meet.
    changed = location_id("LOC 317/A")
    assert changed.startswith("LOC-317-A-") and FHIR_ID.match(changed)
    assert changed != location_id("LOC-317-A") != location_id("LOC 317 A")
    long = "X" * 80
    assert len(location_id(long)) <= 64 and location_id(long) != location_id(long + "Y")
    assert len(role_id("1234567893", "L" * 60)) <= 64
    assert len(network_id("p" * 64)) <= 64
    assert fhir_id("a.b-C9") == "a.b-C9"


@pytest.mark.parametrize("which", ["roster_resources", "edge_resources"])
def test_ids_are_stable_and_unique_and_shared_resources_agree(which, request):
    pairs = request.getfixturevalue(which)
    again = [list(resources_of(doc, "2030-01-01T00:00:00Z")) for doc, _ in pairs]
    assert [[r["id"] for r in rs] for _d, rs in pairs] == [[r["id"] for r in rs] for rs in again]

    seen: dict[tuple[str, str], dict] = {}
    owners: dict[tuple[str, str], str] = {}
    places: dict[str, dict] = {}
    shared_twice = disagreeing = 0
    for doc, resources in pairs:
        keys = [(r["resourceType"], r["id"]) for r in resources]
        assert len(keys) == len(set(keys)), f"{doc['npi']} gives a resource twice"
        here = {location_id(loc["location_id"]): place_facts(loc) for loc in doc["locations"]}
        for key, resource in zip(keys, resources, strict=True):
            assert FHIR_ID.match(resource["id"])
            if key not in seen:
                seen[key], owners[key] = resource, doc["npi"]
                if key[0] == "Location":
                    places[key[1]] = here[key[1]]
                continue
            assert key[0] in SHARED, f"{key} given by {owners[key]} and {doc['npi']}"
            shared_twice += 1
            if key[0] == "Location" and here[key[1]] != places[key[1]]:
                # The documents themselves disagree on the place (the edge roster has a
                # location whose coordinates are bad on one row and geocoded from its ZIP):
                # the store keeps the first copy.
                disagreeing += 1
                continue
            assert without_meta(resource) == without_meta(seen[key]), key
    assert shared_twice > 0
    assert disagreeing == 0 or which == "edge_resources"


def without_meta(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if k != "meta"}


def test_every_code_written_reads_back_to_its_value():
    for value, code in plannet.ACCESSIBILITY_CODE_OF.items():
        assert plannet.ACCESSIBILITY_CODES[code] == value
    carried = set(plannet.ACCESSIBILITY_CODE_OF) | set(plannet.ACCESSIBILITY_TEXTS)
    assert carried == set(OUR_ACCESSIBILITY)
    for status, code in plannet.NEWPATIENTS_CODE_OF.items():
        assert plannet.ACCEPTING[code] == status
    assert set(plannet.NEWPATIENTS_CODE_OF) == set(OUR_ACCEPTING) - {"unknown"}
    for line_of_business, code in plannet.PRODUCT_TYPE_OF.items():
        assert plannet.LINE_OF_BUSINESS_CODES[code] == line_of_business
        hmo = plannet.HMO_PRODUCT_TYPES.get(code)
        assert hmo is None or plannet.LINE_OF_BUSINESS_CODES[hmo] == line_of_business
    for code in plannet.COMMERCIAL_PRODUCT_WORDS.values():
        assert plannet.LINE_OF_BUSINESS_CODES[code] == "commercial"
    assert set(plannet.PRODUCT_TYPE_OF) | {"commercial"} == set(LINES_OF_BUSINESS)


# --- the round trip ---------------------------------------------------------------------------


def write_export(folder: Path, resources: list[dict]) -> list[Path]:
    """One NDJSON file per resource type, shared resources once: a bulk export."""
    folder.mkdir()
    paths = []
    for kind, items in sorted(deduplicated(resources).items()):
        path = folder / f"{kind}.ndjson"
        path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
        paths.append(path)
    return paths


def read_back(paths: list[Path]) -> dict[str, dict]:
    summary = ImportSummary(source="export")
    docs = list(collect(read_plannet(paths), summary).documents())
    # Warnings are the roster's own (a ZIP code outside California, a row with no taxonomy):
    # they went in with them the first time too.
    assert summary.rows_rejected == 0
    assert [e for e in summary.errors if e.severity != "warning"] == []
    return {d["npi"]: d for d in docs}


def facts(doc: dict, places: dict[str, dict] | None = None) -> dict:
    """What the round trip compares of a practitioner's document (see NOT_CARRIED); `places`
    gives the place facts of each location as the export kept them."""
    name = doc["name"]
    return {
        "npi": doc["npi"],
        "entity_type": doc["entity_type"],
        "name": (name["first"], name["middle"], name["last"]),
        "gender": doc["gender"] if doc["gender"] != "nonbinary" else None,
        "credentials": doc["credentials"],
        "specialties": [s["code"] for s in doc["specialties"]],
        "languages": doc["languages"],
        "medical_group": doc["medical_group"],
        "license": doc["license"],
        "locations": {
            loc["location_id"]: location_facts(loc, (places or {}).get(loc["location_id"]))
            for loc in doc["locations"]
        },
    }


def place_facts(location: dict) -> dict:
    """What a Location resource carries: the place, the same in every document naming it."""
    coded = set(plannet.ACCESSIBILITY_CODE_OF)
    return {
        "name": location["name"],
        "address": location["address"],
        "city": location["city"],
        "state": location["state"],
        "zip": location["zip"],
        "zip4": location["zip4"],
        "phone": location["phone"],
        "phone_extension": location["phone_extension"],
        # The same week, however the text was written ("Daily 9-21" is "Mon-Sun 9:00-21:00").
        "hours": weekly_hours(location["hours"]),
        "open_times": location["open_times"],
        "accessibility": [a for a in location["accessibility"] if a in coded],
        "lat": location["lat"],
        "lon": location["lon"],
    }


def location_facts(location: dict, place: dict | None = None) -> dict:
    """What the round trip compares of a location: its place (as the export kept it), what the
    provider offers there and the plans."""
    return {
        **(place or place_facts(location)),
        "telehealth": location["telehealth"],
        "staff_languages": location["staff_languages"],
        "plans": {
            p["plan"]: (
                p["plan_name"],
                p["line_of_business"],
                p["plan_provider_id"] or "",
                p["accepting"],
            )
            for p in location["plans"]
        },
    }


@pytest.mark.parametrize("which", ["roster_resources", "edge_resources"])
def test_round_trip_through_the_plannet_reader(which, request, tmp_path):
    pairs = request.getfixturevalue(which)
    paths = write_export(tmp_path / "export", all_resources(pairs))
    back = read_back(paths)
    practitioners = [doc for doc, _ in pairs if doc["entity_type"] == "practitioner"]
    assert sorted(back) == sorted(d["npi"] for d in practitioners)
    # A place is written once, from the first document naming it (as the store keeps it).
    places: dict[str, dict] = {}
    for doc, _ in pairs:
        for loc in doc["locations"]:
            places.setdefault(loc["location_id"], place_facts(loc))
    for doc in practitioners:
        read = back[doc["npi"]]
        assert facts(read) == facts(doc, places), doc["npi"]
        # The reader dates a row by its role, practitioner and location; a shared Location is
        # as new as the newest provider there, so the date read back may be later, never earlier.
        assert (read["last_updated"] or "") >= (doc["last_updated"] or ""), doc["npi"]


def test_the_round_trip_covers_what_it_claims(roster_docs):
    """The roster has each kind of fact the round trip compares, so the comparison bites."""
    practitioners = [d for d in roster_docs if d["entity_type"] == "practitioner"]
    locations = [loc for d in practitioners for loc in d["locations"]]
    plans = [p for loc in locations for p in loc["plans"]]
    assert any(d["name"]["middle"] for d in practitioners)
    assert any(d["license"] for d in practitioners)
    assert any(len(d["specialties"]) > 1 for d in practitioners)
    assert any(d["medical_group"] for d in practitioners)
    assert any(not d["medical_group"] for d in practitioners)
    assert any(loc["zip4"] for loc in locations)
    assert any(loc["telehealth"] for loc in locations)
    assert any(loc["staff_languages"] for loc in locations)
    assert {p["accepting"] for p in plans} >= set(OUR_ACCEPTING) - {"unknown"}
    assert {p["line_of_business"] for p in plans} == set(LINES_OF_BUSINESS)
    assert set(NOT_CARRIED)


HOURS_TEXTS = (
    "M-F 7:30am-6:30pm",
    "Mon-Fri 8-12, 13-17",
    "Mon-Fri 8:00-17:00 except Wed",
    "Fri 20:00-2:00",
    "Mon-Sat 8:00-24:00",
    "Mon-Fri",
    "lunes a viernes 9-5",
)


def test_hours_come_back_as_the_same_week(roster_docs):
    """hoursOfOperation written from every hours text of the roster (and some harder ones),
    read back by the Plan-Net reader, is the same week: same days, same times."""
    from indexer.sources.plannet import _hours

    texts = {loc["hours"] for d in roster_docs for loc in d["locations"] if loc["hours"]}
    assert {"Open 24 hours", "Daily 9:00-21:00", "24/7"} <= texts
    for text in sorted(texts) + list(HOURS_TEXTS):
        location = {**roster_docs[0]["locations"][0], "hours": text}
        written = next(
            r
            for r in resources_of({**roster_docs[0], "locations": [location]}, GENERATED_AT)
            if r["resourceType"] == "Location"
        )
        read = _hours(written.get("hoursOfOperation"), "openingTime", "closingTime")
        assert weekly_hours(read) == weekly_hours(text), (text, read)
        assert weekly_hours(text), text


# --- the bundled Plan-Net fixture, read and written again -----------------------------------


def test_the_plannet_fixture_comes_out_as_it_went_in(tmp_path):
    """fixtures/plannet/bundle.json read into documents, written as resources: the same
    practitioners, names, languages, roles' specialties, networks and locations as the fixture,
    and read again, the same directory."""
    bundle = json.loads(BUNDLE.read_text(encoding="utf-8"))
    fixture: dict[str, dict] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        fixture[f"{resource['resourceType']}/{resource['id']}"] = resource
        if entry.get("fullUrl"):
            fixture[entry["fullUrl"]] = resource

    def target(reference: dict) -> dict:
        ref = reference["reference"]
        return fixture.get(ref) or fixture["/".join(ref.split("/")[-2:])]

    summary = ImportSummary(source=str(BUNDLE))
    docs = list(collect(read_plannet([BUNDLE]), summary).documents())
    pairs = [(doc, list(resources_of(doc, GENERATED_AT))) for doc in docs]
    written = all_resources(pairs)
    for resource in written:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert problems(resource) == [], (resource["resourceType"], resource["id"])
    out = {f"{r['resourceType']}/{r['id']}": r for r in written}

    roles = [
        r
        for key, r in fixture.items()
        if key.startswith("PractitionerRole/") and r.get("active") is not False
    ]
    assert roles
    for role in roles:
        source = target(role["practitioner"])
        npi = next(i["value"] for i in source["identifier"] if i["system"] == plannet.NPI_SYSTEM)
        mine = out[f"Practitioner/{practitioner_id(npi)}"]
        name = next((n for n in source["name"] if n.get("use") == "official"), source["name"][0])
        assert mine["name"][0]["family"].casefold() == name["family"].casefold()
        assert mine["name"][0]["given"][0].casefold() == name["given"][0].casefold()
        spoken = [
            c["coding"][0]["code"].split("-")[0]
            for c in source.get("communication", [])
            if c.get("coding")
            and not any(
                code["code"] in plannet.LOW_PROFICIENCY
                for ext in c.get("extension", [])
                for code in ext["valueCodeableConcept"]["coding"]
            )
        ]
        assert {c["coding"][0]["code"] for c in mine.get("communication", [])} >= set(spoken)
        specialties = [
            c["code"]
            for concept in role.get("specialty", [])
            for c in concept["coding"]
            if c["system"] == plannet.NUCC_SYSTEM
        ]
        networks = [
            target(e["valueReference"])
            for e in role.get("extension", [])
            if e["url"] == plannet.NETWORK_REFERENCE
        ]
        for reference in role["location"]:
            place = target(reference)
            prefix = f"PractitionerRole/{role_id(npi, place['id'])}"
            written_roles = [r for key, r in out.items() if key.startswith(prefix)]
            assert written_roles
            for written_role in written_roles:
                codes = [c["coding"][0]["code"] for c in written_role["specialty"]]
                assert set(specialties) <= set(codes)
            named = {
                e["valueReference"]["display"]
                for written_role in written_roles
                for e in written_role.get("extension", [])
                if e["url"] == plannet.NETWORK_REFERENCE
            }
            assert {n["name"] for n in networks} <= named
            written_role = written_roles[0]
            location = out[written_role["location"][0]["reference"]]
            assert location["name"] == place["name"]
            assert location["address"]["city"] == place["address"]["city"]

    # And read again: the same directory.
    back = read_back(write_export(tmp_path / "again", written))
    places = {loc["location_id"]: place_facts(loc) for d in docs for loc in d["locations"]}
    assert sorted(back) == sorted(d["npi"] for d in docs)
    for doc in docs:
        assert facts(back[doc["npi"]]) == facts(doc, places), doc["npi"]


def test_a_document_as_the_engines_give_it_back_makes_the_same_resources(roster_docs):
    """The engines keep some fields for searching only and do not give them back (the primary
    specialty, the search words): the resources must not depend on them."""
    kept_back = ("primary_specialty", "search_text", "name_text", "suggest_keys", "location_count")
    for doc in roster_docs[:200]:
        stored = {k: v for k, v in doc.items() if k not in kept_back}
        assert list(resources_of(stored, GENERATED_AT)) == list(resources_of(doc, GENERATED_AT))
    physician = next(d for d in roster_docs if d["specialty_codes"][:1] == ["207Q00000X"])
    stored = {k: v for k, v in physician.items() if k != "primary_specialty"}
    role = next(
        r for r in resources_of(stored, GENERATED_AT) if r["resourceType"] == "PractitionerRole"
    )
    assert role["code"][0]["coding"][0]["code"] == "ph"
