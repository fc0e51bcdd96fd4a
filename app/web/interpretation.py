"""How a query was read, in the reader's language: a label for each phrase ("Pediatrics",
"Speaks Spanish", "Dermatology: treats rash", "Open Saturday", "Near 90012", "Plan: BlueWave PPO",
"Phone: (562) 555-0196"), for the API's `interpretation` and the page's removable chips."""

from flask_babel import gettext

from app.search.reader import NEAR_ME_KIND, Read, Reading
from app.vocab import languages
from app.vocab.npi import is_valid_npi
from app.vocab.phones import parse_phone
from app.web import i18n, present
from app.web.search_form import FIELD_NAMES

MAX_NAMED_SPECIALTIES = 3


def label(phrase: Read) -> str:
    """What one recognised phrase became, in words."""
    values = phrase.values
    if phrase.kind in ("specialty", "condition"):
        names = ", ".join(
            dict.fromkeys(present.specialty_name(c) for c in values[:MAX_NAMED_SPECIALTIES])
        )
        if phrase.kind == "condition":
            reason = phrase.reason_es if i18n.current_locale() == "es" else phrase.reason_en
            return f"{names}: {reason}"
        return names
    if phrase.kind == "language":
        locale = i18n.current_locale()
        names = [languages.name(v, locale) for v in values]
        if locale == "es":  # Spanish writes language names in lower case mid-sentence
            names = [n[:1].lower() + n[1:] for n in names]
        return gettext("Speaks %(language)s", language=", ".join(names))
    if phrase.kind == "gender":
        return present.label(i18n.GENDERS, values[0])
    if phrase.kind == "type":
        return present.label(i18n.ENTITY_TYPES, values[0])
    if phrase.kind == "pcp":
        return gettext("Primary care")
    if phrase.kind == "accepting":
        return present.label(i18n.ACCEPTING, values[0])
    if phrase.kind == "telehealth":
        return gettext("Offers video visits")
    if phrase.kind == "open":
        together = i18n.OPEN_TIMES_TOGETHER.get(values)
        if together is not None:
            return str(together)
        return ", ".join(present.label(i18n.OPEN_TIMES, v) for v in values)
    if phrase.kind == "line_of_business":
        return present.label(i18n.LINES_OF_BUSINESS, values[0])
    if phrase.kind == "plan":
        return gettext("Plan: %(plan)s", plan=", ".join(phrase.labels or values))
    if phrase.kind == "phone":
        number = parse_phone(values[0]).number
        if phrase.text == values[0] and is_valid_npi(values[0]):  # ten digits, either one
            return gettext("NPI or phone: %(number)s", number=values[0])
        return gettext("Phone: %(number)s", number=number)
    if phrase.kind == "provider_id":
        return gettext("Plan provider ID: %(id)s", id=values[0].upper())
    if phrase.kind == NEAR_ME_KIND:
        return gettext("Near you")
    place = phrase.text if phrase.text.isdigit() else phrase.text.title()
    return gettext("Near %(place)s", place=place)


def present_reading(reading: Reading | None) -> dict | None:
    """The `interpretation` of a search answer: each phrase, the filter it became and its label,
    and the words left for text search."""
    if reading is None:
        return None
    phrases = []
    for phrase in reading.phrases:
        item = {
            "text": phrase.text,
            "kind": phrase.kind,
            "parameter": phrase.parameter,
            "values": list(phrase.values),
            "label": label(phrase),
        }
        if phrase.phrase:
            item["read_as"] = phrase.phrase  # a typo forgiven
        phrases.append(item)
    return {"lang": i18n.current_locale(), "phrases": phrases, "words": list(reading.words)}


def present_relaxations(relaxations) -> list[dict]:
    """The nearest searches that find someone, each with its label in the reader's language."""
    shown = []
    for item in relaxations:
        if item.parameter == "radius":
            radius = int(item.radius) if item.radius.is_integer() else item.radius
            change = {"radius": radius}
            label = gettext("Within %(radius)s miles: %(num)s found", radius=radius, num=item.total)
        else:
            change = {"drop": item.parameter}
            name = str(FIELD_NAMES.get(item.parameter, item.parameter))
            label = gettext("Without “%(filter)s”: %(num)s found", filter=name, num=item.total)
        shown.append({"parameter": item.parameter, "total": item.total, **change, "label": label})
    return shown


def present_did_you_mean(found: tuple[str, int] | None) -> dict | None:
    """A respelled search that finds someone, with its label, or None."""
    if found is None:
        return None
    q, total = found
    label = gettext("Did you mean “%(q)s”? %(num)s found", q=q, num=total)
    return {"q": q, "total": total, "label": label}
