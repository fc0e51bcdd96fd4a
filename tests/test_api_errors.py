"""Bad input gets a clear 4xx in the JSON envelope, naming the parameter; a dead engine a 503."""

import pytest

from app import create_app
from tests.conftest import engine_config

BAD_PARAMS = [
    ({"colour": "blue"}, "colour"),
    ({"near": "9001"}, "near"),
    ({"near": "00000"}, "near"),
    ({"near": "91.0,-118"}, "near"),
    ({"near": "somewhere"}, "near"),
    ({"near": "90012", "radius": "0"}, "radius"),
    ({"near": "90012", "radius": "250"}, "radius"),
    ({"near": "90012", "radius": "nan"}, "radius"),
    ({"radius": "5"}, "radius"),
    ({"limit": "0"}, "limit"),
    ({"limit": "51"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "eyJzIjoibmFtZSJ9"}, "cursor"),
    ({"sort": "price"}, "sort"),
    ({"sort": "distance"}, "sort"),
    ({"sort": "relevance"}, "sort"),
    ({"language": "gibberish"}, "language"),
    ({"gender": "other"}, "gender"),
    ({"specialty": "999999999X"}, "specialty"),
    ({"accepting_new_patients": "maybe"}, "accepting_new_patients"),
    ({"line_of_business": "medicaid"}, "line_of_business"),
    ({"type": "dentist"}, "type"),
    ({"age": "200"}, "age"),
    ({"pcp": "perhaps"}, "pcp"),
    ({"plan": "Not A Plan"}, "plan"),
    ({"q": "x" * 201}, "q"),
    ({"zip": "9001"}, "zip"),
]


@pytest.mark.parametrize("params,field", BAD_PARAMS, ids=[f for _, f in BAD_PARAMS])
def test_bad_parameters_are_a_400_naming_the_field(client, params, field):
    response = client.get("/v1/providers", query_string=params)
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["status"] == 400
    assert error["code"] == "invalid_parameter"
    assert field in error["fields"]
    assert field in error["message"]


def test_a_scalar_parameter_given_twice_is_a_400(client):
    response = client.get("/v1/providers?near=90012&near=90013")
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"near": ["given more than once"]}


def test_cursor_from_another_sort_is_refused(client):
    first = client.get("/v1/providers", query_string={"limit": 2, "sort": "name"}).json
    response = client.get(
        "/v1/providers",
        query_string={"near": "90012", "sort": "distance", "cursor": first["next_cursor"]},
    )
    assert response.status_code == 400
    assert "cursor" in response.json["error"]["fields"]


def test_unknown_npi_is_a_404_and_a_malformed_one_a_400(client):
    missing = client.get("/v1/providers/1234567893")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"
    malformed = client.get("/v1/providers/12345")
    assert malformed.status_code == 400
    assert "npi" in malformed.json["error"]["fields"]


def test_unknown_route_is_a_json_404(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["status"] == 404


def test_engine_down_is_a_503(engine_kind, tmp_path):
    config = engine_config(engine_kind, tmp_path / "never-built")
    if engine_kind == "elasticsearch":
        # Nothing listens on port 1 of the loopback interface.
        config["ELASTICSEARCH_URL"] = "http://127.0.0.1:1"
        config["PD_ES_TIMEOUT"] = 2.0
    client = create_app(config).test_client()
    for url in ("/v1/providers?q=smith", "/v1/health", "/v1/providers/1234567893"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.json["error"]["code"] == "engine_unavailable"
        assert "Traceback" not in response.get_data(as_text=True)


def test_public_search_is_rate_limited(directory_config):
    app = create_app({**directory_config, "PD_RATE_LIMIT": "3/minute"})
    client = app.test_client()
    statuses = [client.get("/v1/providers?limit=1&facets=false").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = client.get("/v1/health")
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "rate_limited"
