"""Bad input gets a clear 4xx in the JSON envelope, naming the parameter; a dead engine a 503."""

import pytest

from app import create_app
from tests.conftest import engine_config

BAD_PARAMS = [
    ({"colour": "blue"}, "colour"),
    ({"near": "9001"}, "near"),
    ({"near": "00000"}, "near"),
    ({"near": "91.0,-118"}, "near"),
    ({"near": "٩٠٠١٢"}, "near"),
    ({"near": "somewhere"}, "near"),
    ({"near": "90012", "radius": "0"}, "radius"),
    ({"near": "90012", "radius": "250"}, "radius"),
    ({"near": "90012", "radius": "nan"}, "radius"),
    ({"limit": "0"}, "limit"),
    ({"limit": "51"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "eyJzIjoibmFtZSJ9"}, "cursor"),
    ({"cursor": "eyJzIjoibmFtZSJ9!"}, "cursor"),
    ({"sort": "price"}, "sort"),
    ({"language": "gibberish"}, "language"),
    ({"gender": "other"}, "gender"),
    ({"specialty": "999999999X"}, "specialty"),
    ({"specialty": ""}, "specialty"),
    ({"language": "es,"}, "language"),
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


@pytest.mark.parametrize(
    "params,sort",
    [
        ({"q": "nurse", "sort": "distance"}, "relevance"),
        ({"sort": "distance"}, "name"),
        ({"near": "90012", "sort": "relevance"}, "distance"),
        ({"q": "pediatrician 90012", "sort": "distance"}, "distance"),
    ],
)
def test_an_order_without_what_it_needs_gives_the_usual_one(client, params, sort):
    response = client.get("/v1/providers", query_string={**params, "limit": 1})
    assert response.status_code == 200, response.json
    assert response.json["sort"] == sort


def test_radius_applies_to_a_place_read_from_q_and_is_ignored_without_one(client):
    def total(**params):
        response = client.get("/v1/providers", query_string={**params, "facets": "false"})
        assert response.status_code == 200, response.json
        return response.json["total"]

    assert total(q="pediatrician 90012", radius=2) == total(
        q="pediatrician", near="90012", radius=2
    )
    assert total(q="pediatrician 90012", radius=2) < total(q="pediatrician 90012", radius=30)
    assert total(q="pediatrician", radius=2) == total(q="pediatrician")


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


@pytest.mark.parametrize(
    "method,url,allow",
    [
        ("DELETE", "/v1/providers", {"GET", "HEAD", "OPTIONS"}),
        ("POST", "/v1/providers/1234567893", {"GET", "HEAD", "OPTIONS"}),
        ("PUT", "/v1/match", {"POST", "OPTIONS"}),
        ("GET", "/v1/imports", {"POST", "OPTIONS"}),
        ("PATCH", "/v1/openapi.json", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_a_method_the_path_does_not_take_is_a_json_405_naming_those_it_does(
    client, method, url, allow
):
    response = client.open(url, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allow
    assert response.json["error"]["status"] == 405


def test_fhir_405_is_an_operation_outcome_with_allow(client):
    response = client.delete("/fhir/Practitioner")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.json["resourceType"] == "OperationOutcome"


def test_a_member_file_that_is_not_utf8_csv_is_a_400_naming_it(client):
    import io

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x81\xff"
    response = client.post(
        "/v1/adequacy",
        data={
            "file": (io.BytesIO(png), "members.csv"),
            "plan": "sunrise-medi-cal",
            "line_of_business": "medi-cal",
        },
        headers={"Authorization": "Bearer enrollment-key-0123456789abcdef"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "file" in response.json["error"]["fields"]


def test_an_upload_over_the_limit_is_a_json_413(directory_config):
    import io

    app = create_app({**directory_config, "PD_MAX_UPLOAD_BYTES": 1024})
    response = app.test_client().post(
        "/v1/imports",
        data={"file": (io.BytesIO(b"npi,zip\n" * 500), "roster.csv")},
        headers={"Authorization": "Bearer importer-key-0123456789abcdef"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


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
