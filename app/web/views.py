"""Routes of the page: the search (`/`) and one provider (`/providers/<npi>`), rendered in one
request with the search code called in-process."""

from dataclasses import replace

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import format_decimal, gettext, ngettext
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, NotFound

from app.engines import get_engine
from app.engines.base import EngineUnavailable
from app.search import spelling
from app.search import suggest as suggestions
from app.search.geo import great_circle_miles
from app.search.reader import NEAR_ME_KIND
from app.search.relax import relaxations
from app.search.results import present_provider, present_search
from app.vocab.npi import NPI_PATTERN
from app.vocab.text import tokens
from app.vocab.zips import ZIP_PATTERN
from app.web import facets, filters, i18n, interpretation, present, search_form, security
from app.web.assets import asset_url

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
bp.after_request(security.page_headers)


@bp.context_processor
def page_context() -> dict:
    return {
        "locale": i18n.current_locale(),
        "other_languages": [
            (code, i18n.NATIVE_NAMES[code], _this_page_in(code))
            for code in i18n.LOCALES
            if code != i18n.current_locale()
        ],
    }


def template_helpers() -> dict:
    """Helpers the templates and their shared macros use (globals, so imports stay cached)."""
    return {
        "asset": asset_url,
        "present": present,
        "labels": i18n,
        "number": lambda n: format_decimal(n, format="#,##0"),
    }


def _this_page_in(locale: str) -> str:
    """This page in another language: the same search, page and provider."""
    args = search_form.read(request.args, locale).link_args(keep_place=True)
    if request.endpoint == "web.provider" and request.view_args:
        return url_for("web.provider", npi=request.view_args["npi"], **args)
    return url_for("web.search", **args)


@bp.get("/")
def search():
    req = search_form.read(request.args, i18n.current_locale())
    engine = get_engine()
    plan_names = engine.plan_names()
    context = {
        "req": req,
        "problems": [],
        "page": None,
        "plan_names": plan_names,
        "read": [],
        "did_you_mean": None,
        "near_me": False,
        "relaxations": [],
    }
    status = 200
    counts: dict = {}
    if req.has_criteria:
        try:
            query = search_form.to_query(req, current_app.config["PD_MAX_PAGE_SIZE"], plan_names)
        except ValidationError as exc:
            context["problems"] = search_form.problems(exc, req)
            status = 400
        else:
            result, counts = facets.search(engine, query)
            context["page"] = _results_page(req, query, present_search(result, query, plan_names))
            context["read"] = _read_chips(req, query.reading)
            # "near me" typed without a place: the page asks the browser where the visitor is.
            context["near_me"] = query.geo is None and any(
                p.kind == NEAR_ME_KIND for p in (query.reading.phrases if query.reading else ())
            )
            context["did_you_mean"] = _did_you_mean(req, engine, query, result.hits)
            if not result.total:
                context["relaxations"] = _relaxation_links(req, query, relaxations(engine, query))
    if not counts:
        counts = facets.directory(engine)
    chosen = {name: req.values(name) for name in facets.SHOWN}
    context["menus"] = filters.menus(counts, chosen, plan_names)
    context["active"] = _active_filters(req, plan_names)
    context["filter_names"] = search_form.FILTERS
    context["suggest"] = _suggest_settings()
    return render_template("search.html", **context), status


def _suggest_settings() -> dict:
    """Where the search box asks for suggestions, and from how many letters to how many."""
    return {
        "url": url_for("suggest.suggest"),
        "min": suggestions.MIN_LETTERS,
        "max": suggestions.MAX_LETTERS,
    }


def _results_page(req: search_form.PageRequest, query, shaped: dict) -> dict:
    total, count = shaped["total"], shaped["count"]
    first = (req.page - 1) * search_form.PAGE_SIZE + 1 if count else 0
    found = ngettext("%(num)s provider found", "%(num)s providers found", total)
    where = ""
    if query.geo is not None:
        near = req.value("near")
        read = [p for p in (query.reading.phrases if query.reading else ()) if p.kind == "place"]
        if not near and read:  # the place was read from the search box: a ZIP or a city
            place = read[0].text if read[0].text.isdigit() else read[0].text.title()
        else:
            place = near if ZIP_PATTERN.match(near) else gettext("your location")
        miles = query.geo.radius_miles
        # gettext plurals count whole numbers; a fraction of a mile reads as plural in English
        # and Spanish ("0.5 miles", "2.5 millas"), as 2 does.
        plural = int(miles) if miles.is_integer() else 2
        where = ngettext(
            "within %(radius)s mile of %(place)s",
            "within %(radius)s miles of %(place)s",
            plural,
            radius=format_decimal(miles, format="#,##0.#"),
            place=place,
        )
    return {
        "total": total,
        "results": shaped["results"],
        "status": f"{found} {where}".strip(),
        "first": first,
        "last": first + count - 1 if count else 0,
        "sort": query.sort,
        "chosen_plans": query.plans,
        "has_geo": query.geo is not None,
        "radius": query.geo.radius_miles if query.geo else None,
        "next_url": (
            url_for(
                "web.search",
                **req.link_args(cursor=shaped["next_cursor"], page=req.page + 1),
            )
            if shaped["next_cursor"]
            else None
        ),
        "first_url": req.url() if req.page > 1 else None,
        "wider_url": _wider_search(req, query),
    }


def _wider_search(req: search_form.PageRequest, query) -> tuple[str, int] | None:
    if query.geo is None:
        return None
    bigger = [r for r in search_form.RADIUS_CHOICES if r > query.geo.radius_miles]
    return (req.url(radius=bigger[0]), bigger[0]) if bigger else None


def _read_chips(req: search_form.PageRequest, reading) -> list[tuple[str, str]]:
    """(what a phrase of the search box was read as, link to the search without that phrase)."""
    if reading is None:
        return []
    typed = tokens(req.values("q")[0] if req.values("q") else "")
    chips = []
    for phrase in reading.phrases:
        span = phrase.text.split()
        rest = _without(typed, span)
        chips.append((interpretation.label(phrase), req.url(q=" ".join(rest) or None)))
    return chips


def _did_you_mean(req: search_form.PageRequest, engine, query, hits) -> tuple[str, str] | None:
    """(label, link) of the search respelled, when a respelling finds someone."""

    def count(q: str) -> int:
        args = MultiDict(req.args)
        args.setlist("q", [q])
        other = search_form.to_query(search_form.read(args, req.locale), 1)
        return engine.search(replace(other, limit=1, facets=())).total

    found = spelling.offer(req.value("q"), query, hits, count)
    if found is None:
        return None
    return interpretation.present_did_you_mean(found)["label"], req.url(q=found[0])


def _relaxation_links(req: search_form.PageRequest, query, found) -> list[tuple[str, str]]:
    """(label with its count, link) for each nearest search that finds someone. A filter read
    from the search box is dropped by taking its words out of the box."""
    read = {p.parameter: p for p in (query.reading.phrases if query.reading else ())}
    typed = tokens(req.value("q"))
    links = []
    for item in interpretation.present_relaxations(found):
        if item["parameter"] == "radius":
            url = req.url(radius=item["radius"])
        elif req.values(item["parameter"]) or item["parameter"] not in read:
            url = req.url(**{item["parameter"]: None})
        else:
            rest = _without(typed, read[item["parameter"]].text.split())
            url = req.url(q=" ".join(rest) or None)
        links.append((item["label"], url))
    return links


def _without(words: list[str], span: list[str]) -> list[str]:
    """The words with the first run equal to `span` taken out."""
    for start in range(len(words) - len(span) + 1):
        if words[start : start + len(span)] == span:
            return words[:start] + words[start + len(span) :]
    return words


def _active_filters(req: search_form.PageRequest, plan_names: dict) -> list[tuple[str, str]]:
    """(what is filtered, link without it) for every filter the visitor set."""
    names = {
        "specialty": present.specialty_name,
        "language": present.language_name,
        "plan": lambda v: plan_names.get(v, v),
        "gender": lambda v: present.label(i18n.GENDERS, v),
        "line_of_business": lambda v: present.label(i18n.LINES_OF_BUSINESS, v),
        "accepting_new_patients": lambda v: present.label(i18n.ACCEPTING, v),
        "accessibility": lambda v: present.label(i18n.ACCESSIBILITY, v),
        "open": lambda v: present.label(i18n.OPEN_TIMES, v),
        "type": lambda v: present.label(i18n.ENTITY_TYPES, v),
        "pcp": lambda v: str(search_form.FIELD_NAMES["pcp"]),
        "telehealth": lambda v: str(search_form.FIELD_NAMES["telehealth"]),
        # Set by choosing a suggestion: a medical group or a city by its name.
        "group": str,
        "city": str,
    }
    active = []
    for name, name_of in names.items():
        values = req.values(name)
        for value in values:
            rest = [v for v in values if v != value]
            active.append((name_of(value), req.url(**{name: rest or None})))
    return active


@bp.get("/providers/<npi>")
def provider(npi: str):
    if not NPI_PATTERN.match(npi):
        raise NotFound()
    engine = get_engine()
    doc = engine.get(npi)
    if doc is None:
        raise NotFound()
    req = search_form.read(request.args, i18n.current_locale())
    query = None
    if req.has_criteria:
        try:
            plans = engine.plan_names()
            query = search_form.to_query(req, current_app.config["PD_MAX_PAGE_SIZE"], plans)
        except ValidationError:
            query = None  # a broken link back still shows the provider, without distances
    view = present_provider(doc)
    if query is not None and query.geo is not None:
        # Distances from the searched place, nearest office first; every office and plan kept.
        geo = query.geo
        for location in view["locations"]:
            location["distance_miles"] = great_circle_miles(
                geo.lat, geo.lon, location["lat"], location["lon"]
            )
        view["locations"].sort(key=lambda loc: loc["distance_miles"])
    return render_template(
        "provider.html",
        provider=view,
        req=req,
        chosen_plans=query.plans if query else (),
        back_url=req.url(keep_place=True) if req.has_criteria else None,
    )


@bp.errorhandler(EngineUnavailable)
def engine_unavailable(exc: EngineUnavailable):
    current_app.logger.warning("engine unavailable: %s", exc)
    return _error_page(503, gettext("The directory is not available right now")), 503


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    code = exc.code or 500
    if code == 404:
        title = gettext("We could not find that page")
    elif code == 429:
        title = gettext("Too many searches in a short time")
    else:
        title = gettext("Something went wrong")
    return _error_page(code, title), code


@bp.errorhandler(Exception)
def unexpected(exc: Exception):
    current_app.logger.exception("unhandled error on the page")
    return _error_page(500, gettext("Something went wrong")), 500


def _error_page(code: int, title: str) -> str:
    return render_template(
        "error.html", code=code, title=title, home=url_for("web.search", lang=i18n.current_locale())
    )
