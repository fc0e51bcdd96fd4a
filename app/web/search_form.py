"""The page's query string: read it into API search arguments, explain bad input, build links.

The page speaks the API's parameter names (plus `lang` and `page`), so a results URL is also a
readable record of the search and can be shared. A plain HTML form sends every field, empty or
not; empty ones mean "any" and are dropped here.
"""

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from app.api.args import ProviderSearchArgs, load_search_args
from app.search import filters
from app.search.query import SearchQuery
from app.vocab.zips import ZIP_PATTERN
from app.web import i18n

PAGE_SIZE = 10
MAX_PAGE_NUMBER = 10_000
# The API's parameters the page passes on; the page itself decides the page size and facets.
# The page's language (`lang`) is the page's own, kept apart from the search.
SEARCH_FIELDS = tuple(
    name for name in ProviderSearchArgs._declared_fields if name not in ("limit", "facets", "lang")
)
# Parameters that only move within one search or say how to read it, not what it finds.
NAVIGATION = ("sort", "cursor", "understand")
RADIUS_CHOICES = (1, 5, 10, 25, 50, 100)
# Parameters the filter panel sets ("Clear all filters" drops them).
FILTERS = (
    "specialty",
    "plan",
    "line_of_business",
    "accepting_new_patients",
    "language",
    "gender",
    "pcp",
    "telehealth",
    "accessibility",
    "open",
    "type",
)

# What each parameter is called on the page: the filters by their declared labels.
FIELD_NAMES = {
    "q": _l("Name, specialty or keyword"),
    "near": _l("ZIP code"),
    "radius": _l("Distance"),
    "sort": _l("Sort by"),
    **{f.parameter: f.label for f in filters.FILTERS},
}


@dataclass
class PageRequest:
    """What the visitor asked for: the search arguments, the page number, the language."""

    args: MultiDict
    submitted: bool
    page: int = 1
    locale: str = i18n.DEFAULT_LOCALE

    @property
    def has_criteria(self) -> bool:
        return any(name not in NAVIGATION for name in self.args)

    def values(self, name: str) -> list[str]:
        return self.args.getlist(name)

    def value(self, name: str, default: str = "") -> str:
        return self.args.get(name, default)

    def link_args(self, drop=(), keep_place: bool = False, **changes) -> dict:
        """Arguments of a link to this search with some parameters dropped or changed; from its
        first page, unless `keep_place` (a provider's page links back to where the visitor was)."""
        out: dict[str, list[str]] = {
            name: self.args.getlist(name) for name in self.args if name not in drop
        }
        if not keep_place:
            out.pop("cursor", None)
        elif "cursor" in out:
            out["page"] = [str(self.page)]
        for name, value in changes.items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value if isinstance(value, list) else [str(value)]
        return {"lang": self.locale, **out}

    def url(self, drop=(), keep_place: bool = False, **changes) -> str:
        return url_for("web.search", **self.link_args(drop, keep_place, **changes))


def read(args: MultiDict, locale: str) -> PageRequest:
    """Keep the parameters the search understands, without empty values; ignore the rest."""
    kept = MultiDict()
    for name in SEARCH_FIELDS:
        for value in args.getlist(name):
            if value.strip():
                kept.add(name, value.strip())
    page = args.get("page", "1")
    page_number = int(page) if page.isdigit() and 0 < int(page) <= MAX_PAGE_NUMBER else 1
    submitted = any(name in args for name in SEARCH_FIELDS)
    return PageRequest(kept, submitted, page_number if "cursor" in kept else 1, locale)


def to_query(
    request: PageRequest, max_page_size: int, plans: dict[str, str] | None = None
) -> SearchQuery:
    """The engine-neutral search; raises marshmallow's ValidationError naming bad fields. `plans`
    are the directory's plan names, read when typed in the search box."""
    args = MultiDict(request.args)
    args["limit"] = str(min(PAGE_SIZE, max_page_size))
    # The form's distance menu always sends a radius; the search ignores it without a place.
    return load_search_args(args, max_page_size, plans)


@dataclass
class Problem:
    """One thing wrong with the search, said so that the visitor knows what to do next."""

    field: str
    message: str
    fix_url: str | None = None
    fix_text: str | None = None


def problems(exc: ValidationError, request: PageRequest) -> list[Problem]:
    messages = exc.normalized_messages()
    found = [_problem(name, _text(messages[name]), request) for name in sorted(messages)]
    return found or [Problem("", gettext("Something in this search is not valid."))]


def _text(message) -> str:
    if isinstance(message, dict):
        return " ".join(_text(m) for m in message.values())
    if isinstance(message, list):
        return " ".join(_text(m) for m in message)
    return str(message)


def _problem(name: str, detail: str, request: PageRequest) -> Problem:
    start_over = request.url(drop=(name,))
    if name == "near":
        place = request.value("near")
        if ZIP_PATTERN.match(place):
            message = gettext(
                "We could not find the ZIP code %(zip)s. Check the number, or try a nearby "
                "ZIP code.",
                zip=place,
            )
        else:
            message = gettext("Enter a 5-digit ZIP code, or use your location.")
        return Problem(name, message, start_over, gettext("Search without a location"))
    if name == "radius":
        message = gettext("Choose a distance between 1 and 100 miles.")
        return Problem(name, message, start_over, gettext("Use the usual distance"))
    if name == "sort":
        message = gettext("Choose how to sort from the list.")
        return Problem(name, message, start_over, gettext("Use the usual order"))
    if name == "cursor":
        return Problem(
            name,
            gettext("That page link no longer works. Start again from the first page."),
            request.url(),
            gettext("Go to the first page"),
        )
    if name == "q":
        return Problem(
            name,
            gettext("Your search words are too long. Use fewer words (up to 200 characters)."),
        )
    label = FIELD_NAMES.get(name)
    return Problem(
        name,
        gettext(
            "We do not recognise the choice for “%(field)s”. Remove it and search again.",
            field=str(label) if label else name,
        ),
        start_over,
        gettext("Search without it"),
    )
