"""Language names and codes to ISO 639-1 codes (pycountry carries the ISO tables)."""

from functools import cache

import pycountry

# Names members and rosters use that ISO does not list under that spelling.
ALIASES = {
    "cantonese": "zh",
    "mandarin": "zh",
    "chinese": "zh",
    "cambodian": "km",
    "farsi": "fa",
    "persian": "fa",
    "filipino": "tl",
    "tagalog": "tl",
    "asl": "sgn",
    "american sign language": "sgn",
}


@cache
def to_code(value: str) -> str | None:
    """ISO 639-1 code for a code or English name, or None when it is not a language."""
    text = value.strip().lower()
    if not text:
        return None
    if text in ALIASES:
        return ALIASES[text]
    language = None
    if len(text) == 2:
        language = pycountry.languages.get(alpha_2=text)
    elif len(text) == 3:
        language = pycountry.languages.get(alpha_3=text)
    if language is None:
        try:
            language = pycountry.languages.lookup(text)
        except LookupError:
            return None
    return getattr(language, "alpha_2", None) or language.alpha_3


@cache
def name(code: str) -> str:
    """English name of a language code."""
    if code == "sgn":
        return "American Sign Language"
    language = pycountry.languages.get(alpha_2=code) or pycountry.languages.get(alpha_3=code)
    return language.name if language else code
