"""The OpenAPI document is valid and describes what the API really does."""

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from app.api.args import ProviderSearchArgs
from app.openapi.document import build

SPEC = build()


def test_document_is_valid_openapi():
    validate(SPEC)


def test_the_app_serves_the_document_it_builds_once(search_app):
    client = search_app.test_client()
    assert client.get("/v1/openapi.json").json == SPEC
    from app.openapi import served_document

    assert served_document(search_app) is served_document(search_app)


def test_every_route_is_documented(search_app):
    routes = {
        rule.rule.replace("<npi>", "{npi}").replace("<job_id>", "{job_id}")
        for rule in search_app.url_map.iter_rules()
        if rule.rule.startswith("/v1/")
    }
    assert routes == set(SPEC["paths"])


def test_search_parameters_are_exactly_the_documented_ones():
    documented = {p["name"] for p in SPEC["paths"]["/v1/providers"]["get"]["parameters"]}
    assert documented == set(ProviderSearchArgs().fields)


def test_suggest_parameters_are_exactly_the_documented_ones():
    from app.api.suggest import SuggestArgs

    documented = {p["name"]: p for p in SPEC["paths"]["/v1/suggest"]["get"]["parameters"]}
    assert set(documented) == set(SuggestArgs().fields)
    assert {n for n, p in documented.items() if p["required"]} == {
        n for n, f in SuggestArgs().fields.items() if f.required
    }


def schema_validator(name: str) -> Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}
    return Draft202012Validator(schema)


@pytest.mark.parametrize(
    "url,status,schema",
    [
        (
            "/v1/providers?near=90012&radius=10&pcp=true&line_of_business=medi-cal",
            200,
            "SearchResponse",
        ),
        ("/v1/providers?q=heart+doctor&limit=3", 200, "SearchResponse"),
        ("/v1/providers?q=golden+poppy+medi-cal+562-555-0196&limit=3", 200, "SearchResponse"),
        ("/v1/providers?q=GP-91506-T&limit=3", 200, "SearchResponse"),
        ("/v1/providers?q=rahs&limit=3", 200, "SearchResponse"),
        ("/v1/providers?q=pediatrician+near+me&limit=3", 200, "SearchResponse"),
        ("/v1/providers?q=pediatrician&near=90033&radius=1", 200, "SearchResponse"),
        ("/v1/providers?limit=2", 200, "SearchResponse"),
        ("/v1/providers?near=90012&radius=300", 400, "Error"),
        ("/v1/providers?specialty=", 400, "Error"),
        ("/v1/providers/0000000000", 404, "Error"),
        ("/v1/health", 200, "Health"),
        ("/v1/suggest?q=card", 200, "SuggestResponse"),
        ("/v1/suggest?q=gar&limit=10", 200, "SuggestResponse"),
        ("/v1/suggest?q=long+be&lang=es", 200, "SuggestResponse"),
        ("/v1/suggest?q=a", 200, "SuggestResponse"),
        ("/v1/suggest?q=card&limit=11", 400, "Error"),
    ],
)
def test_responses_match_their_schemas(client, url, status, schema):
    response = client.get(url)
    assert response.status_code == status
    documented = SPEC["paths"]
    path = url.split("?")[0]
    path = "/v1/providers/{npi}" if path.startswith("/v1/providers/") else path
    assert str(status) in documented[path]["get"]["responses"]
    errors = list(schema_validator(schema).iter_errors(response.json))
    assert not errors, errors[:3]


def test_provider_page_matches_its_schema(client):
    npi = client.get("/v1/providers?limit=1").json["results"][0]["npi"]
    response = client.get(f"/v1/providers/{npi}")
    assert not list(schema_validator("Provider").iter_errors(response.json))


def test_match_and_adequacy_bodies_are_exactly_the_documented_ones():
    from app.api.match import AdequacySchema
    from app.match.member import MatchRequestSchema

    schemas = SPEC["components"]["schemas"]
    assert set(schemas["MatchRequest"]["properties"]) == set(MatchRequestSchema().fields)
    assert set(schemas["AdequacyRequest"]["properties"]) == set(AdequacySchema().fields)


STAFF = {"Authorization": "Bearer enrollment-key-0123456789abcdef"}
MEMBER = {"home": "90012", "plan": "sunrise-medi-cal", "line_of_business": "medi-cal", "age": 40}


@pytest.mark.parametrize(
    "body,status,schema",
    [
        (MEMBER, 200, "MatchResponse"),
        ({**MEMBER, "home": "35.3,-116.1"}, 200, "MatchResponse"),
        ({**MEMBER, "home": "93536", "age": 4, "max_distance": 3}, 200, "MatchResponse"),
        ({**MEMBER, "age": 400}, 400, "Error"),
    ],
)
def test_match_responses_match_their_schemas(client, body, status, schema):
    response = client.post("/v1/match", json=body, headers=STAFF)
    assert response.status_code == status
    assert str(status) in SPEC["paths"]["/v1/match"]["post"]["responses"]
    errors = list(schema_validator(schema).iter_errors(response.json))
    assert not errors, errors[:3]


def test_assignment_and_adequacy_responses_match_their_schemas(client):
    import io

    data = {"file": (io.BytesIO(b"member_id,home,plan,line_of_business,age\n"), "m.csv")}
    response = client.post(
        "/v1/assignments", data=data, headers=STAFF, content_type="multipart/form-data"
    )
    assert response.status_code == 202
    assert not list(schema_validator("AssignmentJob").iter_errors(response.json))
    report = client.post(
        "/v1/adequacy",
        json={"plan": "sunrise-medi-cal", "line_of_business": "medi-cal", "zips": ["90012"]},
        headers=STAFF,
    )
    assert report.status_code == 200
    assert not list(schema_validator("AdequacyReport").iter_errors(report.json))
