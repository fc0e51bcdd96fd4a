"""Calls to the search API that many tests make, with the status checked."""


def search(client, **params) -> dict:
    """GET /v1/providers (50 a page unless given); fails the test on any status but 200."""
    response = client.get("/v1/providers", query_string={"limit": 50, **params})
    assert response.status_code == 200, response.json
    return response.json


def npis(body: dict) -> set[str]:
    """The NPIs of one answer's results."""
    return {r["npi"] for r in body["results"]}
