"""The filter menus: each option with its words in the page's language and its count."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.web import i18n, present


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    count: int | None
    selected: bool


def _options(
    values: Iterable[str],
    counts: dict[str, int],
    selected: list[str],
    name_of: Callable[[str], str],
    alphabetical: bool,
) -> list[Option]:
    # Offer what the search can find, and keep a chosen value even when nothing matches it.
    wanted = [v for v in values if counts.get(v) or v in selected]
    options = [Option(v, name_of(v), counts.get(v, 0), v in selected) for v in wanted]
    if alphabetical:
        options.sort(key=lambda o: present.sort_key(o.label))
    return options


def menus(
    counts: dict[str, dict[str, int]], chosen: dict[str, list[str]], plan_names: dict[str, str]
) -> dict[str, list[Option]]:
    """Options of every facet menu, given the facet counts and the visitor's current choices."""

    def build(name, name_of, order=None):
        found = counts.get(name, {})
        selected = chosen.get(name, [])
        values = list(order) if order else list(dict.fromkeys([*found, *selected]))
        return _options(values, found, selected, name_of, alphabetical=order is None)

    return {
        "specialty": build("specialty", present.specialty_name),
        "language": build("language", present.language_name),
        "plan": build("plan", lambda code: plan_names.get(code, code)),
        "gender": build("gender", lambda v: present.label(i18n.GENDERS, v), i18n.GENDERS),
        "line_of_business": build(
            "line_of_business",
            lambda v: present.label(i18n.LINES_OF_BUSINESS, v),
            i18n.LINES_OF_BUSINESS,
        ),
        "accepting_new_patients": build(
            "accepting_new_patients",
            lambda v: present.label(i18n.ACCEPTING, v),
            i18n.ACCEPTING,
        ),
    }
