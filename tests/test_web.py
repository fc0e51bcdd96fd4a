"""The physician-finder page, rendered by the app in-process, on both engines.

The page must show what the JSON API finds (same totals, same providers in the same order, the
same plan provider IDs), in English and Spanish, and turn bad input into a page that says what
to do next. The browser tests (test_web_e2e.py) check what a visitor does with it.
"""

import gettext
import html
import re
from urllib.parse import urlencode

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from app import create_app
from app.web import assets
from tests.conftest import ROOT, engine_config

WEB = ROOT / "app" / "web"
CATALOG = WEB / "translations" / "es" / "LC_MESSAGES" / "messages.po"
COMPILED = CATALOG.with_suffix(".mo")


def npis(page: str) -> list[str]:
    return re.findall(r'<h3 id="provider-(\d{10})">', page)


def status_text(page: str) -> str:
    found = re.search(r'id="result-status"[^>]*>([^<]*)<', page)
    assert found, "no result status on the page"
    return html.unescape(found.group(1)).strip()


def api(client, **params) -> dict:
    response = client.get("/v1/providers?" + urlencode(params, doseq=True))
    assert response.status_code == 200, response.json
    return response.json


def page(client, expect: int = 200, **params) -> str:
    response = client.get("/?" + urlencode(params, doseq=True))
    assert response.status_code == expect, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_search_page_before_a_search(client):
    response = client.get("/?lang=en")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in body
    for field in ("q", "near", "radius", "f-specialty", "f-plan", "f-language", "f-pcp"):
        assert f'for="{field}"' in body and f'id="{field}"' in body, field
    assert 'id="result-status"' not in body
    # The menus already offer what the directory holds, with counts.
    assert re.search(r"<option value=\"es\" >Spanish \(\d[\d,]*\)</option>", body)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def search_box(body: str) -> str:
    found = re.search(r'<input type="search" id="q"[^>]*>', body)
    assert found, "no search box on the page"
    return found.group(0)


def test_search_box_carries_what_its_suggestions_need(client):
    """The box is a plain input; its data says where the script asks and what it announces."""
    english = search_box(page(client, lang="en"))
    spanish = search_box(page(client, lang="es"))
    assert 'role="combobox"' not in english  # added by the script, so the page works without it
    url = html.unescape(re.search(r'data-suggest-url="([^"]+)"', english).group(1))
    low = int(re.search(r'data-suggest-min="(\d+)"', english).group(1))
    high = int(re.search(r'data-suggest-max="(\d+)"', english).group(1))
    assert client.get(f"{url}?q={'c' * low}&lang=en").status_code == 200
    assert client.get(f"{url}?q={'c' * high}&lang=en").status_code == 200
    assert client.get(f"{url}?q={'c' * (high + 1)}&lang=en").status_code == 400
    answer = client.get(f"{url}?q=cardio&lang=es").json
    assert {"label": "Cardiología", "kind": "specialty"}.items() <= answer["suggestions"][0].items()
    announced = {
        "name": ("Suggestions", "Sugerencias"),
        "none": ("No suggestions", "No hay sugerencias"),
        "one": ("1 suggestion available", "1 sugerencia disponible"),
        "many": ("{num} suggestions available", "{num} sugerencias disponibles"),
    }
    for name, (in_english, in_spanish) in announced.items():
        assert f'data-suggest-{name}="{in_english}"' in english
        assert f'data-suggest-{name}="{in_spanish}"' in spanish
    body = page(client, lang="en")
    assert f"/assets/combobox.js?v={assets.version('combobox.js')}" in body


def test_a_search_without_a_place_ignores_the_distance_menu(client):
    """The form always sends a radius; choosing a specialty alone still searches."""
    body = page(client, q="Cardiology", radius="10", lang="en")
    expected = api(client, q="Cardiology", limit=10)
    assert status_text(body) == f"{expected['total']} providers found"
    assert npis(body) == [r["npi"] for r in expected["results"]]
    body = page(client, q="Cardiology", radius="25", near="90012", lang="en")
    assert "within 25 miles of 90012" in status_text(body)


def test_group_and_city_chosen_from_suggestions_show_as_filters(client):
    """A suggested group or city becomes a filter: shown, removable, the API's results."""
    params = {"group": "Pacific Gateway IPA", "city": "Los Angeles"}
    expected = api(client, **params, limit=10)
    body = page(client, **params, lang="en")
    assert expected["total"] and npis(body) == [r["npi"] for r in expected["results"]]
    assert "Remove filter: Pacific Gateway IPA" in body
    assert "Remove filter: Los Angeles" in body


def test_results_are_the_api_results(client):
    params = {"q": "family doctor", "near": "90012", "radius": "10"}
    expected = api(client, **params, limit=10)
    body = page(client, **params, lang="en")
    assert expected["total"] > 10
    assert status_text(body) == f"{expected['total']} providers found within 10 miles of 90012"
    assert npis(body) == [r["npi"] for r in expected["results"]]
    first = expected["results"][0]
    location = first["locations"][0]
    assert html.escape(first["display_name"]) in body
    assert location["phone"] in body
    digits = re.sub(r"\D", "", location["phone"])
    assert f'href="tel:+1{digits}"' in body


def test_filters_and_facet_counts(client):
    params = {
        "near": "90033",
        "radius": "10",
        "pcp": "true",
        "plan": "sunrise-medi-cal",
        "accepting_new_patients": "accepting",
        "language": "es",
    }
    expected = api(client, **params, limit=10)
    body = page(client, **params, lang="en")
    assert npis(body) == [r["npi"] for r in expected["results"]]
    assert str(expected["total"]) in status_text(body)
    # Each shown plan is the chosen plan, with its provider ID and accepting status.
    for result in expected["results"]:
        plan = result["locations"][0]["plans"][0]
        assert plan["plan"] == "sunrise-medi-cal"
        assert plan["plan_provider_id"] in body
    assert "How to choose this doctor as your PCP" in body
    # A chosen filter's menu counts as if it were not chosen, so other languages stay on offer.
    without_language = {k: v for k, v in params.items() if k != "language"}
    counts = {f["value"]: f["count"] for f in api(client, **without_language)["facets"]["language"]}
    assert len(counts) > 1
    for code, count in counts.items():
        assert re.search(rf'<option value="{code}" (selected)?>[^<]* \({count:,}\)</option>', body)
    assert 'value="es" selected' in body
    assert "Remove filter: Spanish" in body


def test_paging_with_the_cursor(client):
    params = {"near": "90012", "radius": "25", "pcp": "true"}
    first_api = api(client, **params, limit=10)
    body = page(client, **params, lang="en")
    next_link = re.search(r'<a href="([^"]+)" rel="next">', body)
    assert next_link, "no next page link"
    second = client.get(html.unescape(next_link.group(1)))
    assert second.status_code == 200
    second_body = second.get_data(as_text=True)
    second_api = api(client, **params, limit=10, cursor=first_api["next_cursor"])
    assert npis(second_body) == [r["npi"] for r in second_api["results"]]
    assert f"Showing 11\u201320 of {second_api['total']:,}" in second_body
    assert "Page 2" in second_body
    assert "First page" in second_body


def test_spanish_by_parameter_cookie_and_browser(search_app):
    client = search_app.test_client()
    body = page(client, lang="es", q="pediatra", near="90033")
    assert '<html lang="es">' in body
    assert "Buscar un médico" in body and "proveedores encontrados" in body
    assert "Pediatría" in body  # specialty names come from the specialty table
    assert "Español" not in body.split("<main")[0]  # the switch offers the other language
    assert ">English</a>" in body
    # The choice is remembered for the next visit without `lang`.
    assert '<html lang="es">' in page(client)
    # A new visitor whose browser prefers Spanish.
    fresh = search_app.test_client()
    response = fresh.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in response.get_data(as_text=True)
    assert "Accept-Language" in response.headers["Vary"]


def test_spanish_interface_has_no_english_left(search_app):
    client = search_app.test_client()
    body = page(client, lang="es", near="90012", pcp="true", language="es")
    for english in ("Search", "Filters", "providers found", "Accepting new patients", "Hours"):
        assert f">{english}<" not in body and f"{english}:" not in body, english
    assert "Acepta pacientes nuevos" in body
    assert re.search(r"lun-vie \d", body), "day names are translated"


def test_unknown_zip_is_a_friendly_page(client):
    body = page(client, expect=400, near="00000", lang="en")
    assert "We could not find the ZIP code 00000" in body
    assert 'aria-invalid="true"' in body
    assert '"error"' not in body
    body = page(client, expect=400, near="somewhere", lang="es")
    assert "Escriba un código postal de 5 dígitos" in body


def test_other_bad_input(client):
    body = page(client, expect=400, near="90012", cursor="not-a-cursor", lang="en")
    assert "Go to the first page" in body
    # Nearest first without a place gives the usual order, and the menu says so.
    body = page(client, q="family doctor", sort="distance", lang="en")
    assert npis(body) and '<option value="relevance" selected>' in body
    # Parameters the page does not know (a tracking tag, say) are ignored, not refused.
    body = page(client, q="family doctor", utm_source="mail", _external="1", _anchor="x")
    assert npis(body) and "utm_source" not in body and "_anchor" not in body


def test_no_results_say_what_to_do_next(client):
    body = page(client, near="90012", radius="1", language="km", specialty="207RC0000X", lang="en")
    assert status_text(body) == "0 providers found within 1 mile of 90012"
    assert "No providers match near this place." in body
    assert "Search within 5 miles" in body
    assert "Remove filter: Khmer" in body and "Remove filter: Cardiology" in body
    body = page(client, q="zzzqqxxv", lang="en")
    assert "Check the spelling" in body


def test_empty_search_explains_itself(client):
    body = page(client, q="", near="", lang="en")
    assert "Type a name, a specialty or a ZIP code" in body


def test_provider_page_has_every_location_plan_and_id(client):
    npi = api(client, q="family doctor", near="90012", limit=1)["results"][0]["npi"]
    doc = client.get(f"/v1/providers/{npi}").json
    response = client.get(f"/providers/{npi}?lang=en&near=90012&q=family+doctor")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.escape(doc["display_name"]) in body
    for location in doc["locations"]:
        assert html.escape(location["address"]) in body
        for plan in location["plans"]:
            assert plan["plan_provider_id"] in body
    assert "miles away" in body
    assert "Back to results" in body and "q=family+doctor" in body
    assert 'id="print-page"' in body


@pytest.mark.parametrize("path", ["/providers/1234567893", "/providers/12"])
def test_unknown_provider_is_an_html_404(client, path):
    response = client.get(path + "?lang=en")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "We could not find that page" in response.get_data(as_text=True)


def test_static_files_are_small_and_cached(client):
    sizes = {"site.css": 12_000, "site.js": 4_000, "combobox.js": 10_000, "favicon.svg": 1_000}
    for name, limit in sizes.items():
        versioned = client.get(f"/assets/{name}?v={assets.version(name)}")
        assert versioned.status_code == 200
        assert len(versioned.data) <= limit, name
        cache = versioned.headers["Cache-Control"]
        assert "max-age=31536000" in cache and "immutable" in cache, cache
        stale = client.get(f"/assets/{name}?v=old")
        assert "max-age=300" in stale.headers["Cache-Control"]
    body = page(client)
    assert f"/assets/site.css?v={assets.version('site.css')}" in body


def test_the_page_shares_the_public_rate_limit(directory_config):
    client = create_app({**directory_config, "PD_RATE_LIMIT": "2/minute"}).test_client()
    assert client.get("/?lang=en").status_code == 200
    assert client.get("/v1/providers?limit=1&facets=false").status_code == 200
    for _ in range(3):  # the page's own files do not count
        assert client.get(f"/assets/site.css?v={assets.version('site.css')}").status_code == 200
    response = client.get("/?lang=en")
    assert response.status_code == 429
    assert "Please wait a minute, then search again." in response.get_data(as_text=True)


def test_engine_down_is_a_friendly_page(engine_kind, tmp_path):
    config = engine_config(engine_kind, tmp_path / "never-built")
    if engine_kind == "elasticsearch":
        config["ELASTICSEARCH_URL"] = "http://127.0.0.1:1"
        config["PD_ES_TIMEOUT"] = 2.0
    client = create_app(config).test_client()
    response = client.get("/?q=smith&lang=en")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "The directory is not available right now" in response.get_data(as_text=True)


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return not message.fuzzy and all(strings)


def test_every_interface_text_is_translated():
    """Every message in the page's code and templates and in the search filters has a Spanish
    translation, compiled."""
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    # The page's code and templates, and the search filters' labels.
    found = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for folder in (WEB, WEB.parent / "search")
        for message in extract_from_dir(str(folder), method_map, keywords=keywords)
    }
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="es")
    missing = sorted(t for t in found if catalog.get(t) is None or not _translated(catalog.get(t)))
    assert not missing, f"untranslated (run `make translations`, then translate): {missing}"
    assert COMPILED.exists(), "no compiled catalog: run `make install`"
    with COMPILED.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [
        m.id
        for m in catalog
        if m.id and isinstance(m.id, str) and compiled.gettext(m.id) != m.string
    ]
    assert not stale, f"compiled catalog is out of date (run `make install`): {stale[:5]}"
