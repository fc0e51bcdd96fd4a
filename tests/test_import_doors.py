"""One way in for imports: the CLI and POST /v1/imports take the same options to the same runner,
for every kind of file (CSV, Excel, a Plan-Net Bundle, NDJSON, a folder of NDJSON files)."""

import io
import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from app import create_app
from app.cli import main
from app.engines import create_engine
from app.jobs.request import ImportRequest
from tests.conftest import EDGE_ROSTER, IMPORTER_KEY, ROOT
from tests.test_delta import HEADER, TODAY, group_roster, write
from tests.test_imports import EXPECTED_EDGE, csv_to_xlsx
from tests.test_openapi import schema_validator

BUNDLE = ROOT / "fixtures" / "plannet" / "bundle.json"
EXPECTED_PLANNET = json.loads((BUNDLE.parent / "expected.json").read_text(encoding="utf-8"))
PLANNET_NPIS = sorted({row["npi"] for row in EXPECTED_PLANNET["bundle"]["rows"]})
STAFF = {"Authorization": f"Bearer {IMPORTER_KEY}"}


def cli_import(config: dict, *args) -> "CliRunner.invoke":
    """`provider-directory import …` as a user runs it, configured by the environment."""
    env = {key: None if value is None else str(value) for key, value in config.items()}
    return CliRunner().invoke(main, ["import", *map(str, args)], env=env)


def npis_of(config: dict) -> list[str]:
    from app.search.query import SearchQuery

    engine = create_engine(config)
    try:
        return sorted(h.doc["npi"] for h in engine.search(SearchQuery(limit=1000, facets=())).hits)
    finally:
        engine.close()


def plannet_resources() -> list[dict]:
    """The Bundle's resources as a bulk export carries them: references by Type/id, since NDJSON
    has no fullUrl for a urn:uuid to name."""
    entries = json.loads(BUNDLE.read_text(encoding="utf-8"))["entry"]
    names = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in entries
        if e.get("fullUrl", "").startswith("urn:uuid:")
    }
    text = json.dumps([e["resource"] for e in entries])
    for urn, name in names.items():
        text = text.replace(f'"{urn}"', f'"{name}"')
    return json.loads(text)


def write_ndjson(path: Path, resources: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return path


def plannet_folder(folder: Path) -> Path:
    """One NDJSON file per resource type, as a FHIR bulk export writes them."""
    folder.mkdir()
    by_type: dict[str, list[dict]] = {}
    for resource in plannet_resources():
        by_type.setdefault(resource["resourceType"], []).append(resource)
    for kind, resources in by_type.items():
        write_ndjson(folder / f"{kind}.ndjson", resources)
    return folder


# ---- the command line, for every kind of file -------------------------------------------------


def test_the_cli_imports_a_plannet_bundle_with_a_running_count(fresh_config):
    result = cli_import(fresh_config, BUNDLE)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "rows read" in result.stderr
    assert f"{len(EXPECTED_PLANNET['bundle']['rows'])} rows read" in result.stdout
    assert npis_of(fresh_config) == PLANNET_NPIS


def test_the_cli_imports_ndjson(fresh_config, tmp_path):
    ndjson = write_ndjson(tmp_path / "directory.ndjson", plannet_resources())
    result = cli_import(fresh_config, ndjson)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "rows read" in result.stderr
    assert npis_of(fresh_config) == PLANNET_NPIS


def test_the_cli_imports_an_excel_roster(fresh_config, tmp_path):
    workbook = csv_to_xlsx(EDGE_ROSTER, tmp_path / "edge.xlsx")
    result = cli_import(fresh_config, workbook)
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"{EXPECTED_EDGE['imported_rows']} imported" in result.stdout
    assert f"({EXPECTED_EDGE['rows_with_warnings']} with warnings)" in result.stdout
    assert npis_of(fresh_config) == sorted(EXPECTED_EDGE["imported_npis"])


def test_the_cli_shows_a_bar_for_csv(fresh_config):
    result = cli_import(fresh_config, EDGE_ROSTER)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "importing" in result.stderr


def test_the_cli_imports_a_plannet_folder_like_the_bundle(fresh_config, tmp_path):
    folder = plannet_folder(tmp_path / "export")
    assert len(list(folder.iterdir())) == 6
    result = cli_import(fresh_config, folder)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "0 rejected" in result.stdout
    assert npis_of(fresh_config) == PLANNET_NPIS
    # The same files named one by one.
    again = cli_import(fresh_config, *sorted(folder.iterdir()))
    assert again.exit_code == 0, (again.output, again.exception)
    assert npis_of(fresh_config) == PLANNET_NPIS


def test_the_cli_refuses_csv_mixed_with_plannet(fresh_config, tmp_path):
    result = cli_import(fresh_config, EDGE_ROSTER, BUNDLE)
    assert result.exit_code != 0
    assert "one .csv or .xlsx" in result.output


def test_a_delta_through_the_cli_changes_only_what_it_names(fresh_config, tmp_path):
    full = cli_import(fresh_config, group_roster(tmp_path), "--source", "group")
    assert full.exit_code == 0, (full.output, full.exception)
    delta = write(
        tmp_path / "delta.csv",
        HEADER + ",action,termination_date",
        [f"1245319599,,,,,L2,,sunrise-medi-cal,,,,,,,terminate,{TODAY}"],
    )
    result = cli_import(fresh_config, delta, "--source", "group", "--mode", "delta")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "terminate 1" in result.stdout
    # The untouched providers are still there; the terminated one is gone.
    assert npis_of(fresh_config) == ["1003000126", "1234567893"]


# ---- over HTTP ---------------------------------------------------------------------------------


def post_files(client, paths: list[Path], **form):
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in paths]
    return client.post(
        "/v1/imports",
        data={"file": files, **form},
        headers=STAFF,
        content_type="multipart/form-data",
    )


def finished(client, url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url, headers=STAFF).json
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(job)


def test_an_import_request_is_plain_data():
    request = ImportRequest(
        files=("a/Practitioner.ndjson", Path("a/Location.ndjson")),
        source="sunrise",
        mode="delta",
        requested_by="data-team",
    )
    assert request.files == ("a/Practitioner.ndjson", "a/Location.ndjson")
    assert ImportRequest.from_dict(json.loads(json.dumps(request.as_dict()))) == request
    with pytest.raises(ValueError, match="files"):
        ImportRequest(files=())
    with pytest.raises(ValueError, match="mode"):
        ImportRequest(files=("r.csv",), mode="sometimes")


def test_several_plannet_files_upload_as_one_import(fresh_config, tmp_path):
    from app.jobs.store import job_store

    app = create_app(fresh_config)
    client = app.test_client()
    folder = plannet_folder(tmp_path / "export")
    response = post_files(client, sorted(folder.iterdir()))
    assert response.status_code == 202, response.json
    assert response.json["files"] == sorted(p.name for p in folder.iterdir())
    assert not list(schema_validator("ImportJob").iter_errors(response.json))
    job = finished(client, response.headers["Location"])
    assert job["state"] == "succeeded", job
    assert job["progress"]["rows_rejected"] == 0
    assert job["files"] == sorted(p.name for p in folder.iterdir())
    assert npis_of(fresh_config) == PLANNET_NPIS
    # The job keeps the request as it was made: its own saved files, who asked.
    with app.app_context():
        request = job_store().get(job["id"]).import_request
    assert request.requested_by == "data-team" and request.mode == "full"
    assert [Path(f).parent.name for f in request.files] == [job["id"]] * 6


def test_an_upload_mixing_csv_and_plannet_is_refused(fresh_config):
    client = create_app(fresh_config).test_client()
    response = post_files(client, [EDGE_ROSTER, BUNDLE])
    assert response.status_code == 400
    assert "file" in response.json["error"]["fields"]


def test_two_files_of_one_name_are_both_kept(fresh_config):
    """Exports of two plans may both be called Practitioner.ndjson: each is kept, numbered."""
    client = create_app(fresh_config).test_client()
    twice = post_files(client, [BUNDLE, BUNDLE])
    assert twice.status_code == 202, twice.json
    files = twice.json["files"]
    assert len(files) == len(set(files)) == 2
    assert all(name.endswith(BUNDLE.suffix) for name in files)


class FakeGeocoder:
    """Stands in for a geopy geocoder service: places every address at one point."""

    asked: list[str] = []

    def __init__(self, **options):
        self.options = options

    def geocode(self, query, **_options):
        FakeGeocoder.asked.append(query)
        return SimpleNamespace(latitude=34.1011, longitude=-118.3022)


@pytest.fixture
def fake_geocoder(monkeypatch):
    import indexer.geocode

    FakeGeocoder.asked = []
    monkeypatch.setattr(indexer.geocode, "get_geocoder_for_service", lambda name: FakeGeocoder)
    return FakeGeocoder


def test_an_import_over_http_uses_the_configured_geocoder(fresh_config, fake_geocoder, tmp_path):
    roster = write(
        tmp_path / "addresses.csv",
        HEADER + ",address",
        [
            "1234567893,Ana,Ruiz,207Q00000X,es,L1,90028,sunrise-medi-cal,Sunrise Medi-Cal,"
            f"medi-cal,S1,accepting,{TODAY},{TODAY},6200 Sunset Blvd",
        ],
    )
    client = create_app({**fresh_config, "PD_GEOCODER": "fake"}).test_client()
    job = finished(client, post_files(client, [roster]).headers["Location"])
    assert job["state"] == "succeeded", job
    assert fake_geocoder.asked == ["6200 Sunset Blvd, Los Angeles, CA 90028"]
    (location,) = client.get("/v1/providers/1234567893").json["locations"]
    assert (location["lat"], location["lon"]) == (34.1011, -118.3022)


def test_a_source_name_that_is_not_a_code_is_refused_at_every_door(fresh_config, tmp_path):
    from app.jobs.request import ImportRequest

    result = cli_import(fresh_config, EDGE_ROSTER, "--source", "../etc")
    assert result.exit_code == 2 and "a source is lowercase letters" in result.output
    with pytest.raises(ValueError, match="a source is"):
        ImportRequest(files=("x.csv",), source="Sunrise Health")
