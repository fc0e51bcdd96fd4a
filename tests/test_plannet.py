"""Plan-Net (FHIR R4) directories in: canonical rows the validation checks, bad roles reported."""

import json
import re
import uuid
from collections import Counter
from pathlib import Path

import pytest

from app.vocab.npi import make_npi
from indexer.pipeline import collect
from indexer.records import ImportSummary, RowError
from indexer.sources.csv_roster import RosterFormatError
from indexer.sources.plannet import CANONICAL_COLUMNS, read_plannet
from indexer.validate import RosterRowSchema, validate_rows

ROOT = Path(__file__).resolve().parents[1]
PLANNET = ROOT / "fixtures" / "plannet"
BUNDLE = PLANNET / "bundle.json"
BROKEN = PLANNET / "broken.ndjson"
EXPECTED = json.loads((PLANNET / "expected.json").read_text(encoding="utf-8"))
SD = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
CS = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/"
RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]+$")


def rows_of(items) -> list[tuple[int, dict]]:
    return [(n, row) for n, row in items if not isinstance(row, list)]


def errors_of(items) -> list[RowError]:
    return [error for _n, errors in items if isinstance(errors, list) for error in errors]


def projected(rows: list[tuple[int, dict]], keys: list[str], with_n: bool = True) -> list[dict]:
    """The given columns of each row, sorted, so that reading order does not matter."""
    out = [{**({"n": n} if with_n else {}), **{k: row[k] for k in keys}} for n, row in rows]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True))


def expected_rows(section: str, with_n: bool = True) -> tuple[list[dict], list[str]]:
    rows = EXPECTED[section]["rows"]
    keys = sorted({k for r in rows for k in r} - {"n", "role"})
    out = [{**({"n": r["n"]} if with_n else {}), **{k: r.get(k, "") for k in keys}} for r in rows]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True)), keys


def walk_references(node, change) -> None:
    """Apply ``change`` to every Reference.reference string inside a resource."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                node[key] = change(value)
            else:
                walk_references(value, change)
    elif isinstance(node, list):
        for value in node:
            walk_references(value, change)


def bundle_data() -> dict:
    return json.loads(BUNDLE.read_text(encoding="utf-8"))


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- the directory bundle -----------------------------------------------------------------------


def test_bundle_yields_exactly_the_expected_rows():
    items = list(read_plannet([BUNDLE]))
    assert errors_of(items) == []
    rows = rows_of(items)
    want, keys = expected_rows("bundle")
    assert projected(rows, keys) == want
    for _n, row in rows:
        # What the CSV reader yields: every canonical column, strings only.
        assert set(row) == set(CANONICAL_COLUMNS) == set(RosterRowSchema().fields)
        assert all(isinstance(value, str) for value in row.values())


def test_inactive_roles_are_left_out():
    data = bundle_data()
    skipped = set(EXPECTED["bundle"]["skipped_roles"])
    positions = {
        i
        for i, e in enumerate(data["entry"], start=1)
        if e["resource"]["resourceType"] == "PractitionerRole" and e["resource"]["id"] in skipped
    }
    assert positions
    assert not {n for n, _row in read_plannet([BUNDLE])} & positions


def test_bundle_rows_pass_validation_and_build_documents():
    results = list(validate_rows(read_plannet([BUNDLE])))
    assert [errors for _line, _record, errors in results if errors] == []
    assert len(results) == len(EXPECTED["bundle"]["rows"])

    summary = ImportSummary(source=str(BUNDLE))
    docs = {d["npi"]: d for d in collect(read_plannet([BUNDLE]), summary).documents()}
    assert summary.errors == []
    assert summary.rows_rejected == 0
    assert summary.rows_read == len(EXPECTED["bundle"]["rows"])
    assert summary.providers == EXPECTED["bundle"]["providers"] == len(docs)
    assert summary.locations == EXPECTED["bundle"]["locations"]

    # The role with two locations and two networks: two locations, each with both plans.
    ruiz = docs[make_npi("161803398")]
    assert ruiz["display_name"] == "Maria Elena Ruiz, MD"
    assert ruiz["pcp"] is True
    assert [loc["location_id"] for loc in ruiz["locations"]] == [
        "loc-boyle-heights",
        "loc-chinatown",
    ]
    for location in ruiz["locations"]:
        assert location["geo_source"] == "roster"
        assert {(p["plan"], p["line_of_business"], p["accepting"]) for p in location["plans"]} == {
            ("cv-medi-cal", "medi-cal", "accepting"),
            ("cv-ppo-select", "commercial", "existing_only"),
        }
    chen = docs[make_npi("127182818")]
    assert [s["code"] for s in chen["specialties"]] == ["207RC0000X", "207R00000X"]
    assert chen["locations"][0]["telehealth"] is True
    assert chen["locations"][0]["staff_languages"] == ["en", "zh"]
    assert chen["locations"][0]["phone"] == "(626) 555-0123"
    okafor = docs[make_npi("173205080")]
    assert okafor["languages"] == ["en", "yo"]
    assert okafor["medical_group"] is None


# --- the broken NDJSON ---------------------------------------------------------------------------


def test_broken_ndjson_reports_every_error_once_and_keeps_its_good_roles():
    items = list(read_plannet([BROKEN]))
    errors = errors_of(items)
    expected = EXPECTED["broken"]["errors"]
    assert Counter((e.line, e.field) for e in errors) == Counter(
        (e["n"], e["field"]) for e in expected
    )
    by_key = {(e.line, e.field): e for e in errors}
    for want in expected:
        got = by_key[(want["n"], want["field"])]
        if "value" in want:
            assert got.value == want["value"], want["why"]
        assert len(got.reason) > 15, got
    # One item per bad role or line, all its problems in it, numbered by its line.
    error_items = [(n, errs) for n, errs in items if isinstance(errs, list)]
    assert len(error_items) == len({e["n"] for e in expected})
    assert all(e.line == n for n, errs in error_items for e in errs)

    want, keys = expected_rows("broken")
    assert projected(rows_of(items), keys) == want

    summary = ImportSummary(source=str(BROKEN))
    docs = list(collect(read_plannet([BROKEN]), summary).documents())
    assert sorted(d["npi"] for d in docs) == sorted({r["npi"] for r in EXPECTED["broken"]["rows"]})
    assert summary.rows_imported == len(EXPECTED["broken"]["rows"])
    assert {e.line for e in summary.errors if e.severity == "error"} == {e["n"] for e in expected}


def test_a_role_is_reported_with_all_its_problems(tmp_path):
    data = bundle_data()
    for entry in data["entry"]:
        role = entry["resource"]
        if role["id"] == "role-chen-cardiology":
            role["practitioner"] = {"reference": "Practitioner/p-nobody"}
            role["location"] = [{"reference": "Location/loc-nowhere"}]
            role["healthcareService"] = [{"reference": "HealthcareService/hs-none"}]
            role["extension"] = [
                e for e in role["extension"] if e["url"] != SD + "network-reference"
            ]
            position = data["entry"].index(entry) + 1
    items = list(read_plannet([write_json(tmp_path / "bundle.json", data)]))
    bad = [(n, errs) for n, errs in items if isinstance(errs, list)]
    assert len(bad) == 1
    n, errs = bad[0]
    assert n == position
    # No network is no problem of its own (the practitioner would be listed without a plan).
    assert sorted(e.field for e in errs) == [
        "PractitionerRole.healthcareService",
        "PractitionerRole.location",
        "PractitionerRole.practitioner",
    ]
    assert len(rows_of(items)) == len(EXPECTED["bundle"]["rows"]) - 1


# --- references ----------------------------------------------------------------------------------


def test_the_fixture_uses_every_reference_form():
    references: list[str] = []
    walk_references(bundle_data(), lambda ref: references.append(ref) or ref)
    assert any(RELATIVE_REFERENCE.match(r) for r in references)
    assert any(r.startswith("http://directory.example.org/fhir/") for r in references)
    assert any(r.startswith("https://mirror.example.net/fhir/") for r in references)
    assert any(r.startswith("urn:uuid:") for r in references)


def test_references_in_full_url_form_resolve(tmp_path):
    want = projected(rows_of(read_plannet([BUNDLE])), list(CANONICAL_COLUMNS))

    # Every relative reference made absolute (the fullUrl of what it names).
    absolute = bundle_data()
    base = "http://directory.example.org/fhir/"
    walk_references(absolute, lambda r: base + r if RELATIVE_REFERENCE.match(r) else r)
    got = list(read_plannet([write_json(tmp_path / "absolute.json", absolute)]))
    assert projected(rows_of(got), list(CANONICAL_COLUMNS)) == want

    # Every fullUrl a urn:uuid, every reference that urn: only the fullUrl can resolve them.
    uuids = bundle_data()
    urls = {}
    for entry in uuids["entry"]:
        resource = entry["resource"]
        urls[f"{resource['resourceType']}/{resource['id']}"] = entry["fullUrl"] = (
            entry["fullUrl"]
            if entry["fullUrl"].startswith("urn:uuid:")
            else f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, entry['fullUrl'])}"
        )

    def to_uuid(reference: str) -> str:
        return urls[re.search(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]+$", reference)[0]]

    walk_references(uuids, lambda r: r if r.startswith("urn:uuid:") else to_uuid(r))
    got = list(read_plannet([write_json(tmp_path / "uuids.json", uuids)]))
    assert projected(rows_of(got), list(CANONICAL_COLUMNS)) == want

    # And a urn:uuid reference that matches no fullUrl is an error, not a guess.
    for entry in uuids["entry"]:
        if entry["resource"]["resourceType"] == "PractitionerRole":
            entry["resource"]["practitioner"] = {"reference": f"urn:uuid:{uuid.UUID(int=0)}"}
    got = list(read_plannet([write_json(tmp_path / "dangling.json", uuids)]))
    assert rows_of(got) == []
    assert {e.field for e in errors_of(got)} >= {"PractitionerRole.practitioner"}


def test_references_resolve_across_files(tmp_path):
    """Roles in an NDJSON file, everything they name in a Bundle read after it."""
    data = bundle_data()
    roles = [
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "PractitionerRole"
    ]
    data["entry"] = [
        e for e in data["entry"] if e["resource"]["resourceType"] != "PractitionerRole"
    ]
    roles_file = tmp_path / "roles.ndjson"
    roles_file.write_text("\n".join(json.dumps(r) for r in roles) + "\n", encoding="utf-8")
    rest = write_json(tmp_path / "rest.json", data)

    items = list(read_plannet([roles_file, rest]))
    assert errors_of(items) == []
    want, keys = expected_rows("bundle", with_n=False)
    assert projected(rows_of(items), keys, with_n=False) == want
    # Numbered by NDJSON line.
    line_of = {r["id"]: i for i, r in enumerate(roles, start=1)}
    assert Counter(n for n, _row in rows_of(items)) == Counter(
        line_of[r["role"]] for r in EXPECTED["bundle"]["rows"]
    )
    # Read alone, the roles name nothing that is there.
    alone = list(read_plannet([roles_file]))
    assert rows_of(alone) == []
    assert "PractitionerRole.practitioner" in {e.field for e in errors_of(alone)}


# --- mapping rules --------------------------------------------------------------------------------


def test_defaults_and_codes_left_out(tmp_path):
    npi = make_npi("199999999")
    resources = [
        {
            "resourceType": "Organization",
            "id": "Net.West-2",
            "type": [{"coding": [{"system": CS + "OrgTypeCS", "code": "ntwk"}]}],
            "name": "West Network",
        },
        {
            "resourceType": "Organization",
            "id": "net-senior",
            "identifier": [{"value": "Señor Care Advantage!"}],
            "name": "Senior Care",
        },
        {
            "resourceType": "InsurancePlan",
            "id": "ip-senior",
            "type": [{"text": "Medicare Advantage HMO"}],
            "network": [{"reference": "Organization/net-senior"}],
        },
        {"resourceType": "Organization", "id": "net-exchange", "name": "Exchange Network"},
        {
            "resourceType": "InsurancePlan",
            "id": "ip-exchange",
            "type": [{"coding": [{"system": CS + "InsuranceProductTypeCS", "code": "qhp"}]}],
            "plan": [{"network": [{"reference": "Organization/net-exchange"}]}],
        },
        {
            "resourceType": "Location",
            "id": "loc-x",
            "extension": [
                {
                    "url": SD + "accessibility",
                    "valueCodeableConcept": {"coding": [{"code": code}]},
                }
                for code in ("handiaccess", "wheelchair-ramp", "pubtrans")
            ],
            "address": {"line": ["1 Main St"], "postalCode": "90012"},
            "hoursOfOperation": [
                {
                    "daysOfWeek": ["mon", "tue", "thu"],
                    "openingTime": "07:30:00",
                    "closingTime": "12:00:00",
                },
                {"daysOfWeek": ["sun"], "allDay": True},
            ],
        },
        {
            "resourceType": "Practitioner",
            "id": "p-x",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": npi}],
            "name": [{"family": "Lee", "given": ["Kim"]}],
            "gender": "other",
        },
        {
            "resourceType": "PractitionerRole",
            "id": "role-x",
            "identifier": [
                {"value": "SC-1", "assigner": {"reference": "Organization/net-senior"}},
                {"value": "EX-9", "assigner": {"reference": "Organization/net-exchange"}},
            ],
            "practitioner": {"reference": "Practitioner/p-x"},
            "location": [{"reference": "Location/loc-x"}],
            "specialty": [
                {"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "207R00000X"}]}
            ],
            "extension": [
                {
                    "url": SD + "network-reference",
                    "valueReference": {"reference": "Organization/Net.West-2"},
                },
                {
                    "url": SD + "network-reference",
                    "valueReference": {"reference": "Organization/net-senior"},
                },
                {
                    "url": SD + "network-reference",
                    "valueReference": {"reference": "Organization/net-exchange"},
                },
                {
                    "url": SD + "newpatients",
                    "extension": [
                        {
                            "url": "acceptingPatients",
                            "valueCodeableConcept": {"coding": [{"code": "newpt"}]},
                        }
                    ],
                },
            ],
        },
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }
    rows = {
        row["plan"]: row
        for _n, row in rows_of(read_plannet([write_json(tmp_path / "b.json", bundle)]))
    }
    # Plan codes: a slug of the network's identifier, else of its id.
    assert set(rows) == {"net-west-2", "senor-care-advantage", "net-exchange"}
    west, senior = rows["net-west-2"], rows["senor-care-advantage"]
    assert west["line_of_business"] == "commercial"  # no InsurancePlan names it
    assert senior["line_of_business"] == "medicare-advantage"  # from the type's text
    assert rows["net-exchange"]["line_of_business"] == "covered-california"  # code, plan[].network
    assert senior["plan_provider_id"] == "SC-1"
    assert rows["net-exchange"]["plan_provider_id"] == "EX-9"
    assert west["accessibility"] == "ada-access|public-transit"
    assert west["hours"] == "Mon, Tue, Thu 7:30-12:00; Sun 24 hours"
    assert west["gender"] == ""
    assert west["accepting_new_patients"] == "accepting"
    assert west["telehealth"] == "N"
    # The role's identifiers are assigned by its other networks: no plan provider ID for this
    # one, which the validation refuses.
    assert west["plan_provider_id"] == ""
    results = list(validate_rows(read_plannet([tmp_path / "b.json"])))
    assert {e.field for _line, _record, errors in results for e in errors} == {"plan_provider_id"}


# --- files that are not Plan-Net ----------------------------------------------------------------


def not_plannet_files(tmp_path: Path) -> dict[str, Path]:
    csv = tmp_path / "roster.csv"
    csv.write_text("npi,taxonomy_codes\n1234567893,207Q00000X\n", encoding="utf-8")
    single = write_json(tmp_path / "practitioner.json", {"resourceType": "Practitioner", "id": "p"})
    array = write_json(tmp_path / "list.json", [{"resourceType": "Practitioner", "id": "p"}])
    pretty = tmp_path / "pretty.ndjson"
    pretty.write_text(json.dumps(bundle_data(), indent=2), encoding="utf-8")
    return {"csv": csv, "single": single, "array": array, "pretty": pretty}


@pytest.mark.parametrize("kind", ["csv", "single", "array", "pretty"])
def test_a_file_that_is_neither_bundle_nor_ndjson_is_refused(tmp_path, kind):
    path = not_plannet_files(tmp_path)[kind]
    with pytest.raises(RosterFormatError, match=path.name):
        next(iter(read_plannet([path])))
    # Refused before any row of the good file is read.
    with pytest.raises(RosterFormatError):
        next(iter(read_plannet([BUNDLE, path])))
