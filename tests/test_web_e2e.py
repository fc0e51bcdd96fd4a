"""The physician-finder page in a real headless Chromium, against the running app, on both
engines: search, filter, page, open a provider, switch language, keyboard only, no JavaScript,
"use my location", 360 px phones, axe-core accessibility checks, and screenshots.

Needs Debian's Chromium (/usr/bin/chromium) and axe-core in the cache; `make test` installs both
(scripts/chromium.sh, scripts/axe-core.sh). When either is missing these tests fail: they never
skip. Screenshots go to PD_SCREENSHOTS_DIR (default var/screenshots/<engine>/).
"""

import contextlib
import os
import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import ROOT

CHROMIUM = os.environ.get("PD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_AXE_CACHE = (
    "/var/cache/provider-directory/axe-core"
    if os.geteuid() == 0
    else str(
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "provider-directory/axe-core"
    )
)
AXE_JS = Path(os.environ.get("PD_AXE_CACHE", DEFAULT_AXE_CACHE)) / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("PD_SCREENSHOTS_DIR", ROOT / "var" / "screenshots"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}
# Served at the page's own origin, so axe runs under the page's strict content security policy.
AXE_URL_PATH = "/__axe-core.js"


@pytest.fixture(scope="session")
def live_url(directory_config, engine_kind):
    """The app serving the fixture directory on a free loopback port, one per engine."""
    server = make_server("127.0.0.1", 0, create_app(directory_config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"web-{engine_kind}", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `make test` or scripts/chromium.sh", pytrace=False
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(
            f"no axe-core at {AXE_JS}: run `make test` or scripts/axe-core.sh", pytrace=False
        )
    return AXE_JS.read_text(encoding="utf-8")


class Tab:
    """A browser tab on the live app that records script errors and policy violations."""

    def __init__(self, browser: Browser, base: str, **options):
        self.base = base
        self.context = browser.new_context(**{"viewport": DESKTOP, **options})
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message):
        # A page answered with 400 or 404 is logged here too; _response judges those.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response):
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} for {response.url}")

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def tabs(browser, live_url):
    opened: list[Tab] = []

    def new_tab(**options) -> Tab:
        tab = Tab(browser, live_url, **options)
        opened.append(tab)
        return tab

    yield new_tab
    errors = [e for tab in opened for e in tab.errors]
    for tab in opened:
        tab.close()
    assert not errors, f"errors in the browser console: {errors}"


@pytest.fixture
def tab(tabs) -> Tab:
    return tabs()


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def status(page: Page):
    return page.locator("#result-count")


def focused(page: Page) -> dict:
    """What has the keyboard focus, and whether it is visibly marked."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          const box = el.getBoundingClientRect();
          return {tag: el.tagName, id: el.id, cls: el.className, text: el.textContent.trim(),
                  outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                  visible: box.width > 0 && box.height > 0 && box.bottom > 0};
        }"""
    )


def tab_to(page: Page, test, limit: int = 40) -> dict:
    """Press Tab until `test(focused)` holds; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["outline"] and now["visible"], f"focus not visible on {now}"
        if test(now):
            return now
    raise AssertionError("the keyboard never reached the element")


def test_search_filter_page_and_open_a_provider(tab):
    page = tab.open("/?lang=en")
    page.get_by_label("Name, specialty or keyword").fill("family doctor")
    page.get_by_label("ZIP code").fill("90012")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(status(page)).to_contain_text(re.compile(r"^\d+ providers found within 10 miles"))
    # Empty fields stay out of the shareable address.
    assert query_of(page) == {
        "lang": ["en"],
        "q": ["family doctor"],
        "near": ["90012"],
        "radius": ["10"],
    }

    page.get_by_label("Language spoken").select_option("es")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("link", name="Remove filter: Spanish")).to_be_visible()
    assert query_of(page)["language"] == ["es"]
    for languages in page.locator(".results .languages-spoken").all_inner_texts():
        assert "Spanish" in languages
    first_page = page.locator(".results h3").all_inner_texts()
    total = status(page).inner_text()

    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_text("Page 2", exact=True)).to_be_visible()
    second_page = page.locator(".results h3").all_inner_texts()
    assert second_page and not set(second_page) & set(first_page)
    # The search lives in the address: back, forward and reload all show the same thing.
    page.go_back()
    expect(status(page)).to_have_text(total)
    assert page.locator(".results h3").all_inner_texts() == first_page
    page.go_forward()
    expect(page.get_by_text("Page 2", exact=True)).to_be_visible()
    page.reload()
    assert page.locator(".results h3").all_inner_texts() == second_page

    name = second_page[0]
    page.locator(".results h3 a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_text("Provider ID").first).to_be_visible()
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.emulate_media(media="screen")
    # Back to the page of results the provider was found on.
    page.get_by_role("link", name="Back to results").click()
    assert query_of(page)["language"] == ["es"]
    expect(page.get_by_text("Page 2", exact=True)).to_be_visible()
    assert page.locator(".results h3").all_inner_texts() == second_page


def test_results_are_announced(tab):
    page = tab.open("/?lang=en&q=pediatrics&near=90033")
    live = page.get_by_role("status").filter(has_text="providers found")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_contain_text(re.compile(r"\d+ providers found within 10 miles of 90033"))
    expect(live).to_have_text(status(page).inner_text())
    assert re.match(r"\d+ providers found", page.title())


def test_switch_language(tab):
    page = tab.open("/?lang=en&q=pediatrics&near=90033")
    page.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Buscar un médico")
    expect(status(page)).to_contain_text("proveedores encontrados")
    assert query_of(page)["q"] == ["pediatrics"]
    expect(page.locator(".results .specialty").first).to_contain_text("Pediatría")
    # Remembered for the next visit.
    page = tab.open("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_keyboard_only(tab):
    page = tab.open("/?lang=en")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["cls"] == "skip-link" and skip["visible"] and skip["outline"], skip
    page.keyboard.press("Enter")
    tab_to(page, lambda f: f["id"] == "q")
    page.keyboard.type("pediatrics")
    tab_to(page, lambda f: f["id"] == "near")
    page.keyboard.type("90033")
    page.keyboard.press("Enter")
    expect(status(page)).to_contain_text("providers found within 10 miles of 90033")

    # Choose a filter with the keyboard alone.
    tab_to(page, lambda f: f["id"] == "f-language")
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#f-language").input_value()
    assert chosen
    tab_to(page, lambda f: f["text"] == "Apply filters")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name=re.compile("^Remove filter:"))).to_be_visible()
    assert query_of(page)["language"] == [chosen]

    # Jump to the results and open the first one.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to results"
    page.keyboard.press("Enter")
    link = tab_to(
        page,
        lambda f: (
            f["tag"] == "A"
            and page.evaluate("() => !!document.activeElement.closest('.results h3')")
        ),
    )
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(link["text"])
    tab_to(page, lambda f: f["text"] == "Back to results")


def test_works_without_javascript(tabs):
    page = tabs(java_script_enabled=False).open("/?lang=en")
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
    page.get_by_label("Name, specialty or keyword").fill("cardiology")
    page.get_by_label("ZIP code").fill("91101")
    page.get_by_label("Distance").select_option("25")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(status(page)).to_contain_text("providers found within 25 miles of 91101")
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Gender").select_option("female")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("link", name="Remove filter: Female")).to_be_visible()
    assert query_of(page)["gender"] == ["female"]
    expect(page.locator(".results h3").first).to_be_visible()


def test_use_my_location(tabs):
    tab = tabs(
        geolocation={"latitude": 34.0614, "longitude": -118.2385}, permissions=["geolocation"]
    )
    page = tab.open("/?lang=en")
    page.get_by_role("button", name="Use my location").click()
    expect(status(page)).to_contain_text("within 10 miles of your location")
    assert query_of(page)["near"] == ["34.0614,-118.2385"]
    expect(page.locator(".results .distance").first).to_contain_text("miles away")


def test_near_me_asks_the_browser_where_the_visitor_is(tabs):
    tab = tabs(
        geolocation={"latitude": 34.0614, "longitude": -118.2385}, permissions=["geolocation"]
    )
    page = tab.open("/?lang=en&q=pediatrician+near+me")
    # The page asks for the location by itself and searches around it.
    expect(status(page)).to_contain_text("within 10 miles of your location")
    assert query_of(page)["near"] == ["34.0614,-118.2385"]
    assert query_of(page)["q"] == ["pediatrician near me"]
    expect(page.locator(".results .distance").first).to_contain_text("miles away")


def test_no_results_and_bad_input_say_what_to_do(tab):
    page = tab.open("/?lang=en&near=90012&radius=1&language=km&specialty=207RC0000X")
    expect(page.get_by_text("No providers match near this place.")).to_be_visible()
    page.get_by_role("link", name="Search within 5 miles").click()
    assert query_of(page)["radius"] == ["5"]
    page = tab.open("/?lang=en&near=00000")
    problems = page.get_by_role("alert")
    expect(problems).to_contain_text("We could not find the ZIP code 00000")
    expect(problems).to_be_focused()
    expect(page.get_by_label("ZIP code")).to_have_attribute("aria-invalid", "true")


PAGES = {
    "search": "/?lang=en",
    "results": "/?lang=en&q=family+doctor&near=90012&plan=sunrise-medi-cal",
    "provider": None,  # the first result's page, found at run time
    "search-es": "/?lang=es",
    "results-es": "/?lang=es&near=90033&pcp=true&language=es",
    "provider-es": None,
    "no-results": "/?lang=en&near=90012&radius=1&language=km&specialty=207RC0000X",
    "bad-zip": "/?lang=es&near=00000",
}


def page_paths(tab: Tab) -> dict[str, str]:
    paths = dict(PAGES)
    for name, results in (("provider", "results"), ("provider-es", "results-es")):
        page = tab.open(paths[results])
        paths[name] = urlsplit(page.locator(".results h3 a").first.get_attribute("href")).path
        paths[name] += "?" + urlsplit(paths[results]).query
    return paths


def open_every_details(page: Page) -> None:
    """Unfold filters, plan lists and explanations, so that what they hide is checked too."""
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def run_axe(page: Page, source: str) -> list[dict]:
    page.route(
        "**" + AXE_URL_PATH,
        lambda route: route.fulfill(body=source, content_type="application/javascript"),
    )
    page.add_script_tag(url=AXE_URL_PATH)
    return page.evaluate(
        """async () => (await axe.run(document)).violations.map(v => ({
             id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violations(tabs, axe_source, viewport):
    tab = tabs(viewport=viewport)
    found = {}
    for name, path in page_paths(tab).items():
        page = tab.open(path)
        open_every_details(page)
        violations = run_axe(page, axe_source)
        if violations:
            found[name] = violations
    assert not found, f"axe-core violations: {found}"


def test_no_horizontal_scrolling_at_360_pixels(tabs):
    tab = tabs(viewport=PHONE)
    for name, path in page_paths(tab).items():
        page = tab.open(path)
        open_every_details(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} is {width} px wide at 360 px"


def test_screenshots(tabs, engine_kind):
    """The main states at desktop and phone widths, kept as test artefacts."""
    folder = SCREENSHOTS / engine_kind
    folder.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        tab = tabs(viewport=viewport)
        for name, path in page_paths(tab).items():
            page = tab.open(path)
            if name.startswith("results") and viewport is PHONE:
                page.locator("#results-heading").scroll_into_view_if_needed()
                page.evaluate("document.getElementById('results-heading').scrollIntoView()")
            target = folder / f"{name}-{label}.png"
            page.screenshot(path=str(target))
            assert target.stat().st_size > 10_000, target


# The search box's suggestions: a WAI-ARIA combobox over GET /v1/suggest.
SUGGEST_PATH = "/v1/suggest"
SEARCH_BOX = {"en": "Name, specialty or keyword", "es": "Nombre, especialidad o palabra clave"}


def search_box(page: Page, lang: str = "en"):
    return page.get_by_role("combobox", name=SEARCH_BOX[lang], exact=True)


def suggestion_list(page: Page):
    box = page.locator('[role="combobox"][aria-autocomplete="list"]')
    return page.locator("#" + box.get_attribute("aria-controls"))


def options(page: Page):
    return suggestion_list(page).get_by_role("option")


def watch_suggestions(page: Page) -> list[dict[str, list[str]]]:
    """The query of every request for suggestions the page makes from now on."""
    asked: list[dict[str, list[str]]] = []

    def record(request):
        if urlsplit(request.url).path == SUGGEST_PATH:
            asked.append(parse_qs(urlsplit(request.url).query))

    page.on("request", record)
    return asked


def exactly(text: str) -> re.Pattern:
    return re.compile("^" + re.escape(text) + "$")


def option(page: Page, label: str, detail: str | None = None):
    """The option showing this label (and this detail, what it is)."""
    found = options(page).filter(has=page.locator(".suggestion-label", has_text=exactly(label)))
    if detail is not None:
        found = found.filter(has=page.locator(".suggestion-detail", has_text=exactly(detail)))
    return found


def highlight(page: Page, target) -> None:
    """Press ArrowDown until `target` is the highlighted option."""
    expect(target).to_be_visible()
    wanted = target.get_attribute("id")
    box = page.locator('[role="combobox"][aria-autocomplete="list"]')
    for _ in range(options(page).count()):
        page.keyboard.press("ArrowDown")
        if box.get_attribute("aria-activedescendant") == wanted:
            return
    raise AssertionError(f"ArrowDown never reached {wanted}")


def test_suggestions_follow_the_keyboard(tab):
    page = tab.open("/?lang=en")
    asked = watch_suggestions(page)
    box = search_box(page)
    expect(box).to_have_attribute("aria-autocomplete", "list")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("card", delay=60)  # a quick typist: faster than the wait
    expect(box).to_have_attribute("aria-expanded", "true")
    listbox = suggestion_list(page)
    expect(listbox).to_have_attribute("role", "listbox")
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_visible()
    cardiology = option(page, "Cardiology", "Specialty")
    expect(cardiology).to_have_count(1)
    assert re.fullmatch(r"Cardiology\W+Specialty", cardiology.inner_text())
    # One request, for the whole word, in the page's language.
    assert asked == [{"q": ["card"], "lang": ["en"]}]
    items = options(page)
    count = items.count()
    assert count >= 2
    live = page.locator("#" + listbox.get_attribute("id") + "-status")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_text(f"{count} suggestions available")

    assert box.get_attribute("aria-activedescendant") is None
    ids = [items.nth(i).get_attribute("id") for i in range(count)]
    plain = items.nth(1).evaluate("el => getComputedStyle(el).backgroundColor")
    for key, index in (
        ("ArrowDown", 0),
        ("ArrowDown", 1),
        ("ArrowUp", 0),
        ("ArrowUp", count - 1),  # wraps to the last
        ("ArrowDown", 0),  # and back to the first
    ):
        page.keyboard.press(key)
        expect(box).to_have_attribute("aria-activedescendant", ids[index])
        expect(items.nth(index)).to_have_attribute("aria-selected", "true")
        expect(listbox.locator('[aria-selected="true"]')).to_have_count(1)
    marked = items.nth(0).evaluate("el => getComputedStyle(el).backgroundColor")
    assert marked != plain, "the highlighted option looks like the others"
    expect(box).to_be_focused()

    page.keyboard.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    assert box.get_attribute("aria-activedescendant") is None
    expect(box).to_have_value("card")
    page.keyboard.press("Escape")
    expect(box).to_have_value("")


def test_suggestions_need_two_letters_and_say_how_many(tab):
    page = tab.open("/?lang=en")
    asked = watch_suggestions(page)
    box = search_box(page)
    box.press_sequentially("c")
    page.wait_for_timeout(500)
    assert asked == []
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("a")
    expect(box).to_have_attribute("aria-expanded", "true")
    assert asked == [{"q": ["ca"], "lang": ["en"]}]
    live = page.get_by_role("status").filter(has_text=re.compile("suggestions? available"))
    expect(live).to_have_text(re.compile(r"^\d+ suggestions? available$"))
    page.keyboard.press("Backspace")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.wait_for_timeout(500)
    assert len(asked) == 1
    box.press_sequentially("zqxv")
    expect(page.get_by_role("status").filter(has_text="No suggestions")).to_have_count(1)
    expect(box).to_have_attribute("aria-expanded", "false")


def test_only_the_latest_answer_is_shown(tab):
    page = tab.open("/?lang=en")
    held = []

    def hold_the_first(route):
        if parse_qs(urlsplit(route.request.url).query)["q"] == ["pedi"]:
            held.append(route)  # answered only after the later request's answer is shown
        else:
            route.fallback()

    page.route(f"**{SUGGEST_PATH}?*", hold_the_first)
    box = search_box(page)
    box.press_sequentially("pedi")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the first request was never made"
    box.fill("")
    box.press_sequentially("card")
    expect(option(page, "Cardiology", "Specialty")).to_have_count(1)
    with contextlib.suppress(PlaywrightError):  # the page may have given up on it already
        held[0].fallback()
    page.wait_for_timeout(500)
    expect(option(page, "Cardiology", "Specialty")).to_have_count(1)
    expect(option(page, "Pediatrics")).to_have_count(0)


def test_enter_on_a_provider_opens_their_page(tab):
    first = tab.page.request.get(tab.base + "/v1/providers?q=cardiology&limit=1").json()
    provider = first["results"][0]
    surname = provider["display_name"].split(",")[0].split()[-1]
    page = tab.open("/?lang=en")
    search_box(page).press_sequentially(surname)
    highlight(page, option(page, provider["display_name"]).first)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(provider["display_name"])
    assert urlsplit(page.url).path == f"/providers/{provider['npi']}"
    assert query_of(page)["lang"] == ["en"]


def suggested(tab: Tab, typed: str, label: str, lang: str = "en") -> dict:
    """What the API suggests for `typed` under this label."""
    answer = tab.page.request.get(f"{tab.base}{SUGGEST_PATH}?q={typed}&lang={lang}").json()
    return next(s for s in answer["suggestions"] if s["label"] == label)


def result_npis(page: Page) -> list[str]:
    return [
        h.get_attribute("id").removeprefix("provider-") for h in page.locator(".results h3").all()
    ]


@pytest.mark.parametrize("how", ["keyboard", "mouse"])
def test_choosing_a_specialty_searches_for_it(tab, how):
    specialty = suggested(tab, "cardio", "Cardiology")["params"]["specialty"]
    page = tab.open("/?lang=en")
    search_box(page).press_sequentially("cardio")
    cardiology = option(page, "Cardiology", "Specialty")
    if how == "keyboard":
        highlight(page, cardiology)
        page.keyboard.press("Enter")
    else:
        cardiology.click()
    expect(status(page)).to_contain_text("providers found")
    assert query_of(page)["specialty"] == specialty and "q" not in query_of(page)
    expect(page.get_by_role("link", name="Remove filter: Cardiology")).to_be_visible()
    expected = tab.page.request.get(f"{tab.base}/v1/providers?specialty={specialty[0]}").json()
    assert result_npis(page) == [r["npi"] for r in expected["results"]]


def test_choosing_a_group_keeps_the_place(tab):
    page = tab.open("/?lang=en&near=90012")  # results sorted nearest first
    search_box(page).press_sequentially("gateway")
    highlight(page, option(page, "Pacific Gateway IPA", "Medical group"))
    page.keyboard.press("Enter")
    expect(status(page)).to_contain_text("providers found within 10 miles of 90012")
    query = query_of(page)
    assert query["group"] == ["Pacific Gateway IPA"] and query["near"] == ["90012"]
    assert "q" not in query and "sort" not in query
    expect(page.get_by_role("link", name="Remove filter: Pacific Gateway IPA")).to_be_visible()
    groups = page.locator(".results .group").all_inner_texts()
    assert groups and set(groups) == {"Pacific Gateway IPA"}


def test_enter_without_a_choice_searches_as_typed_and_tab_moves_on(tab):
    page = tab.open("/?lang=en")
    box = search_box(page)
    box.press_sequentially("card")
    expect(box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_label("ZIP code")).to_be_focused()
    box.focus()
    box.press_sequentially("iology")
    expect(box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Enter")
    expect(status(page)).to_contain_text("providers found")
    assert query_of(page)["q"] == ["cardiology"]


def test_suggestions_in_spanish(tab):
    page = tab.open("/?lang=es")
    asked = watch_suggestions(page)
    box = search_box(page, "es")
    box.press_sequentially("cardio")
    cardiology = option(page, "Cardiología", "Especialidad")
    expect(cardiology).to_have_count(1)
    expect(page.get_by_role("listbox", name="Sugerencias")).to_be_visible()
    assert asked == [{"q": ["cardio"], "lang": ["es"]}]
    count = options(page).count()
    live = page.get_by_role("status").filter(has_text="disponible")
    expected = "1 sugerencia disponible" if count == 1 else f"{count} sugerencias disponibles"
    expect(live).to_have_text(expected)
    highlight(page, cardiology)
    page.keyboard.press("Enter")
    expect(status(page)).to_contain_text("proveedores encontrados")
    assert (
        query_of(page)["specialty"]
        == suggested(tab, "cardio", "Cardiología", "es")["params"]["specialty"]
    )
    expect(page.get_by_role("link", name="Quitar filtro: Cardiología")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violations_with_suggestions_open(tabs, axe_source, viewport, engine_kind):
    tab = tabs(viewport=viewport)
    folder = SCREENSHOTS / engine_kind
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for lang, typed in (("en", "card"), ("es", "cardio")):
        page = tab.open(f"/?lang={lang}")
        search_box(page, lang).press_sequentially(typed)
        expect(options(page).first).to_be_visible()
        page.keyboard.press("ArrowDown")  # one option highlighted, the others not
        label = "desktop" if viewport is DESKTOP else "phone"
        page.screenshot(path=str(folder / f"suggestions-{lang}-{label}.png"))
        violations = run_axe(page, axe_source)
        if violations:
            found[lang] = violations
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{width} px wide with the suggestions open"
    assert not found, f"axe-core violations: {found}"
