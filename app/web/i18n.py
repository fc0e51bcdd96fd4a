"""Which language a visitor reads the page in, and names of data values in that language.

Interface text is translated with gettext catalogs (Flask-Babel) under app/web/translations.
Data names come from where they live: specialty names from the specialty table (English and
Spanish), language names from the language registry (`app.vocab.languages`).
"""

from flask import Flask, Response, g, request
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l

LOCALES = ("en", "es")
DEFAULT_LOCALE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
NATIVE_NAMES = {"en": "English", "es": "Español"}


def requested_locale() -> str | None:
    """A supported language named by the `lang` query parameter, if any."""
    value = request.args.get("lang", "").strip().lower()
    return value if value in LOCALES else None


def select_locale() -> str:
    """`lang` in the query string, then the cookie it sets, then the browser's preference."""
    chosen = requested_locale()
    if chosen:
        return chosen
    # The answer now depends on the cookie and the browser's languages (app.headers says so).
    g.locale_negotiated = True
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LOCALES:
        return cookie
    return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def remember_locale(response: Response) -> Response:
    """Keep a language picked by `lang` for later visits without it."""
    chosen = requested_locale()
    if chosen and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(
            COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True, path="/"
        )
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "web/translations")
    Babel(app, locale_selector=select_locale)


# Words for data codes that the page shows. Plan names are proper names and stay as they are.
ACCEPTING = {
    "accepting": _l("Accepting new patients"),
    "not_accepting": _l("Not accepting new patients"),
    "existing_only": _l("Existing patients only"),
    "existing_family": _l("Existing patients and their families only"),
    "unknown": _l("Accepting new patients: not known"),
}
LINES_OF_BUSINESS = {
    "commercial": _l("Commercial (through an employer or on your own)"),
    "medi-cal": _l("Medi-Cal"),
    "medicare-advantage": _l("Medicare Advantage"),
    "covered-california": _l("Covered California"),
}
GENDERS = {"female": _l("Female"), "male": _l("Male"), "nonbinary": _l("Nonbinary")}
ACCESSIBILITY = {
    "ada-access": _l("Wheelchair accessible building"),
    "accessible-parking": _l("Accessible parking"),
    "accessible-exam-room": _l("Accessible exam room and equipment"),
    "public-transit": _l("Near public transit"),
    "tty": _l("TTY for deaf and hard of hearing callers"),
    "cultural-competence": _l("Cultural competence training"),
}
PCP_TYPES = {
    "family": _l("Family medicine: children and adults"),
    "internal": _l("Internal medicine: adults"),
    "pediatrics": _l("Pediatrics: children"),
    "general": _l("General practice: children and adults"),
    "geriatrics": _l("Geriatrics: older adults"),
    "obgyn": _l("Obstetrics and gynecology: women"),
}
ENTITY_TYPES = {
    "practitioner": _l("Doctor or clinician"),
    "clinic": _l("Clinic or group practice"),
    "urgent_care": _l("Urgent care"),
    "lab": _l("Laboratory"),
    "pharmacy": _l("Pharmacy"),
    "hospital": _l("Hospital"),
    "other": _l("Other provider"),
}
# What the `open` filter asks for, one code at a time, and the codes that are said together.
OPEN_TIMES = {
    "mon": _l("Open Monday"),
    "tue": _l("Open Tuesday"),
    "wed": _l("Open Wednesday"),
    "thu": _l("Open Thursday"),
    "fri": _l("Open Friday"),
    "sat": _l("Open Saturday"),
    "sun": _l("Open Sunday"),
    "evening": _l("Open evenings"),
    "early": _l("Open early mornings"),
}
OPEN_TIMES_TOGETHER = {("sat", "sun"): _l("Open weekends")}
DAYS = {
    "Mon": _l("Mon"),
    "Tue": _l("Tue"),
    "Wed": _l("Wed"),
    "Thu": _l("Thu"),
    "Fri": _l("Fri"),
    "Sat": _l("Sat"),
    "Sun": _l("Sun"),
    "Daily": _l("Daily"),
}
