"""Data values as a visitor reads them: names in their language, phone links, hours, distances."""

import re
import unicodedata

from flask_babel import format_decimal, gettext

from app.vocab import languages
from app.vocab.nucc import describe as describe_specialty
from app.web import i18n
from indexer.documents import AGE_CEILING, AGE_FLOOR

_DAY = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Daily)\b")
_PHONE_DIGITS = re.compile(r"\d")


def specialty_name(code: str) -> str:
    known = describe_specialty(code)
    return known.display_es if i18n.current_locale() == "es" else known.display


def language_name(code: str) -> str:
    """A language's name in the page's language, capitalised as a list item."""
    return languages.name(code, i18n.current_locale())


def language_list(codes) -> str:
    return ", ".join(language_name(code) for code in codes)


def label(table: dict, value: str) -> str:
    """The translated word for a code, or the code itself when the page has no word for it."""
    word = table.get(value)
    return str(word) if word is not None else value


def hours(text: str | None) -> str:
    """Office hours with the day names in the page's language ("Mon-Fri 8:00-17:00")."""
    if not text:
        return ""
    if text.strip().lower() in ("24/7", "open 24 hours"):
        return gettext("Open 24 hours")
    return _DAY.sub(lambda m: str(i18n.DAYS[m.group(1)]), text)


def ages(low: int | None, high: int | None) -> str:
    """Which patients a provider sees, in words; the roster's open ends read as no limit."""
    low = AGE_FLOOR if low is None else low
    high = AGE_CEILING if high is None else high
    if low <= AGE_FLOOR and high >= AGE_CEILING:
        return gettext("sees patients of all ages")
    if high >= AGE_CEILING:
        return gettext("sees patients aged %(low)s and older", low=low)
    if low <= AGE_FLOOR:
        return gettext("sees patients up to age %(high)s", high=high)
    return gettext("sees patients aged %(low)s to %(high)s", low=low, high=high)


def tel_href(phone: str | None, extension: str | None = None) -> str | None:
    """A tel: link in international form for a US number, so phones dial it as written; an
    extension rides along as RFC 3966 `;ext=`."""
    digits = "".join(_PHONE_DIGITS.findall(phone or ""))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        return None
    return f"tel:+1{digits};ext={extension}" if extension else f"tel:+1{digits}"


def distance(miles: float | None) -> str:
    if miles is None:
        return ""
    return gettext("%(miles)s miles away", miles=format_decimal(round(miles, 1), format="#,##0.0"))


def sort_key(text: str) -> str:
    """Alphabetical order that ignores accents and case (Ginecología next to Gynecology)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
