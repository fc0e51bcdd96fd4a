"""Language names and codes -> BCP-47 tags (as FHIR Plan-Net stores them), and back to names.

`langcodes` knows the IANA registry and the names of languages; the aliases below are the spellings
rosters and members use that it would read otherwise (`ASL` is a language of its own in ISO,
`French Creole` is not French) and the Spanish names of the languages Californians ask for.
"""

from functools import cache

import langcodes

ALIASES = {
    # English spellings seen in rosters
    "asl": "ase",
    "american sign language": "ase",
    "sign language": "ase",
    "sign": "ase",
    "sgn": "ase",
    "cantonese": "yue",
    "mandarin": "cmn",
    "mandarin chinese": "cmn",
    "chinese": "zh",
    "cambodian": "km",
    "khmer": "km",
    "farsi": "fa",
    "persian": "fa",
    "filipino": "tl",
    "fil": "tl",
    "tagalog": "tl",
    "french creole": "ht",
    "haitian creole": "ht",
    "creole": "ht",
    "laotian": "lo",
    "taiwanese": "nan",
    "toishanese": "yue",
    "taishanese": "yue",
    "visayan": "ceb",
    "bisaya": "ceb",
    "mixteco": "mix",
    "mixtec": "mix",
    "zapoteco": "zap",
    "zapotec": "zap",
    "portugues": "pt",
    "punjabi": "pa",
    "panjabi": "pa",
    "hebrew": "he",
    "iw": "he",
    "serbo-croatian": "sh",
    # Spanish names
    "espanol": "es",
    "español": "es",
    "castellano": "es",
    "ingles": "en",
    "inglés": "en",
    "chino": "zh",
    "cantones": "yue",
    "cantonés": "yue",
    "mandarin (chino)": "cmn",
    "mandarín": "cmn",
    "vietnamita": "vi",
    "coreano": "ko",
    "armenio": "hy",
    "arabe": "ar",
    "árabe": "ar",
    "ruso": "ru",
    "tagalo": "tl",
    "persa": "fa",
    "camboyano": "km",
    "jemer": "km",
    "japones": "ja",
    "japonés": "ja",
    "frances": "fr",
    "francés": "fr",
    "portugués": "pt",
    "aleman": "de",
    "alemán": "de",
    "italiano": "it",
    "hindi": "hi",
    "panyabi": "pa",
    "panyabí": "pa",
    "lenguaje de señas": "ase",
    "lenguaje de senas": "ase",
    "lengua de señas": "ase",
    "lengua de senas": "ase",
    "lenguaje de señas americano": "ase",
    "lengua de señas americana": "ase",
}

# Macrolanguages and the languages in them a member may mean: asking for Chinese finds speakers
# of Mandarin and Cantonese; asking for Cantonese finds only Cantonese.
MACROLANGUAGES = {
    "zh": ("cmn", "yue", "nan", "hak", "wuu", "gan", "hsn", "cdo"),
    "fa": ("pes", "prs"),
    "ar": ("arb", "arz", "apc", "ajp", "acm", "ary"),
}


@cache
def to_tag(value: str) -> str | None:
    """The BCP-47 language tag for a code (ISO 639-1/2/3, BCP-47) or an English or Spanish name,
    or None when it names no language. Region and script subtags are dropped: `es-MX` -> `es`."""
    text = " ".join(value.strip().lower().split())
    if not text:
        return None
    if text in ALIASES:
        return ALIASES[text]
    language = None
    if len(text) <= 3 or "-" in text or "_" in text:
        try:
            language = langcodes.get(text.replace("_", "-"))
        except (ValueError, LookupError):
            language = None
        if language is not None and not _known(language):
            language = None
    if language is None:
        for written_in in ("en", "es"):
            try:
                language = langcodes.find(text, language=written_in)
                break
            except LookupError:
                continue
    if language is None or not language.language:
        return None
    tag = language.language
    # Our two names for Tagalog/Filipino and old codes (zh-yue, sgn-US) land on one tag each.
    return ALIASES.get(tag, tag)


def _known(language: langcodes.Language) -> bool:
    return language.is_valid() and not language.display_name().startswith("Unknown language")


def matching_tags(tag: str) -> tuple[str, ...]:
    """The tags a search for `tag` accepts: itself, for a macrolanguage its members, and for a
    member its macrolanguage (a roster that says "Chinese" may mean Cantonese: the office will
    know; a member asking for Cantonese should not be told nobody speaks it)."""
    broader = [macro for macro, members in MACROLANGUAGES.items() if tag in members]
    return (tag, *MACROLANGUAGES.get(tag, ()), *broader)


# Names for which the registry's own would mislead or is missing in Spanish.
NAMES = {
    ("tl", "en"): "Tagalog",
    ("tl", "es"): "Tagalo",
    ("cmn", "en"): "Mandarin",
    ("cmn", "es"): "Mandarín",
    ("ase", "es"): "Lengua de señas americana",
}


@cache
def name(tag: str, locale: str = "en") -> str:
    """The name of a language in English or Spanish (the tag itself when nobody knows it)."""
    if (tag, locale) in NAMES:
        return NAMES[tag, locale]
    try:
        display = langcodes.get(tag).display_name(locale)
    except (ValueError, LookupError):
        return tag
    return display[:1].upper() + display[1:] if display else tag
