"""A Plan-Net bulk export as plans publish it: one NDJSON file per resource type, ZIP+4 written as
nine digits, phones with extensions, NUCC codes well beyond physicians, BCP-47 language codings
with regions, roles with no plan provider ID and roles in no network. Every valid role goes in."""

import json

from app.vocab.npi import make_npi
from tests.test_import_doors import cli_import, npis_of

SD = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
NUCC = "http://nucc.org/provider-taxonomy"
BCP47 = "urn:ietf:bcp:47"

# (npi, family, given, NUCC code, languages, networks)
CLINICIANS = [
    (make_npi("300000001"), "OKAFOR", "NGOZI", "363L00000X", ["en-US", "ig"], ["acme-std"]),
    (make_npi("300000002"), "BAPTISTE", "JEAN", "1223G0001X", ["en-US", "ht"], ["acme-std"]),
    (make_npi("300000003"), "NGUYEN", "THANH", "1835P1200X", ["vi", "en"], ["acme-std", "acme-p"]),
    (make_npi("300000004"), "ROSSI", "MARCO", "111N00000X", ["it", "en"], ["acme-p"]),
    (make_npi("300000005"), "LEE", "GRACE", "1041C0700X", ["ko", "zh-yue"], []),
    (make_npi("300000006"), "DIAZ", "ANA", "207L00000X", ["es-MX", "en"], ["acme-std"]),
]


def resources() -> dict[str, list[dict]]:
    networks = [
        {
            "resourceType": "Organization",
            "id": net,
            "meta": {"profile": [SD + "plannet-Network"]},
            "active": True,
            "name": name,
            "type": [{"coding": [{"code": "ntwk"}]}],
        }
        for net, name in (("acme-std", "Acme of CT Standard Network"), ("acme-p", "Acme Premium"))
    ]
    plan = {
        "resourceType": "InsurancePlan",
        "id": "acme-hmo",
        "name": "Acme HMO",
        "type": [{"coding": [{"code": "commhmo"}]}],
        "network": [{"reference": "Organization/acme-std"}, {"reference": "Organization/acme-p"}],
    }
    location = {
        "resourceType": "Location",
        "id": "loc-hartford-1",
        "meta": {"lastUpdated": "2026-10-01T12:00:00Z"},
        "status": "active",
        "name": "Hartford Medical Arts",
        "telecom": [{"system": "phone", "value": "(860) 555-0142 ext. 310", "use": "work"}],
        "address": {
            "line": ["100 Retreat Avenue", "Suite 4"],
            "city": "Hartford",
            "state": "CT",
            "postalCode": "061061208",
        },
        "position": {"longitude": -72.6796, "latitude": 41.7545},
    }
    practitioners, roles = [], []
    for i, (npi, family, given, code, spoken, nets) in enumerate(CLINICIANS):
        practitioners.append(
            {
                "resourceType": "Practitioner",
                "id": f"p{i}",
                "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": npi}],
                "name": [{"family": family, "given": [given]}],
                "gender": "female" if i % 2 else "male",
                "communication": [{"coding": [{"system": BCP47, "code": tag}]} for tag in spoken],
            }
        )
        roles.append(
            {
                "resourceType": "PractitionerRole",
                "id": f"r{i}",
                "active": True,
                "extension": [
                    {
                        "url": SD + "network-reference",
                        "valueReference": {"reference": f"Organization/{n}"},
                    }
                    for n in nets
                ],
                "practitioner": {"reference": f"Practitioner/p{i}"},
                "location": [{"reference": "Location/loc-hartford-1"}],
                "specialty": [{"coding": [{"system": NUCC, "code": code}]}],
            }
        )
    return {
        "Organization": networks,
        "InsurancePlan": [plan],
        "Location": [location],
        "Practitioner": practitioners,
        "PractitionerRole": roles,
    }


def write_export(folder) -> None:
    folder.mkdir()
    for kind, items in resources().items():
        (folder / f"{kind}.ndjson").write_text(
            "".join(json.dumps(r) + "\n" for r in items), encoding="utf-8"
        )


def test_a_bulk_export_folder_goes_in_whole(fresh_config, tmp_path):
    export = tmp_path / "export"
    write_export(export)
    result = cli_import(fresh_config, export, "--source", "acme")
    assert result.exit_code == 0, (result.output, result.exception)
    # Six roles, seven role x network rows (one role in two networks, one in none), none rejected.
    assert "7 rows read, 7 imported" in result.stdout, result.stdout
    assert "0 rejected" in result.stdout
    assert npis_of(fresh_config) == sorted(c[0] for c in CLINICIANS)

    from app import create_app

    client = create_app(fresh_config).test_client()
    nguyen = client.get(f"/v1/providers/{CLINICIANS[2][0]}").json
    (location,) = nguyen["locations"]
    assert (location["zip"], location["zip4"]) == ("06106", "1208")
    assert (location["phone"], location["phone_extension"]) == ("(860) 555-0142", "310")
    assert location["address"] == "100 Retreat Avenue, Suite 4"
    assert sorted(p["plan"] for p in location["plans"]) == ["acme-p", "acme-std"]
    assert {p["line_of_business"] for p in location["plans"]} == {"commercial"}
    assert {p["accepting"] for p in location["plans"]} == {"unknown"}
    assert nguyen["specialties"][0]["display"] == "Pharmacotherapy Pharmacist"
    okafor = client.get(f"/v1/providers/{CLINICIANS[0][0]}").json
    assert okafor["specialties"][0]["display"] == "Nurse Practitioner"
    lee = client.get(f"/v1/providers/{CLINICIANS[4][0]}").json
    assert lee["languages"] == ["ko", "yue"]
    assert lee["locations"][0]["plans"] == []
    diaz = client.get(f"/v1/providers/{CLINICIANS[5][0]}").json
    assert diaz["languages"] == ["es", "en"]
    found = client.get("/v1/providers", query_string={"language": "zh", "near": "06106"}).json
    assert [r["npi"] for r in found["results"]] == [CLINICIANS[4][0]]
