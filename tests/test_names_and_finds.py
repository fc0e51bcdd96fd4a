"""Names, numbers and plans typed in the search box, through the API on both engines: compound
and hyphenated surnames, initials, plan provider IDs, phone numbers and plan names.

Expected answers are computed here from the roster rows, in plain code."""

import csv
import re
import unicodedata

import pytest

from app import create_app
from app.vocab.npi import make_npi
from indexer.pipeline import import_roster
from tests.api_calls import npis, search
from tests.conftest import FIXTURE_ROSTER


def plain(value: str) -> str:
    """Lower case, no accents, letters and digits only: how the tests compare names and IDs."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return re.sub(r"[^0-9a-z]", "", "".join(c for c in decomposed if c.isascii()).lower())


def digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def fixture_rows() -> list[dict]:
    with open(FIXTURE_ROSTER, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


ROWS = fixture_rows()


def providers_where(rows, test) -> set[str]:
    return {r["npi"] for r in rows if test(r)}


# -- direct finds: plan provider IDs and phone numbers (the fixture roster) ---------------------

# One ID of each shape the fixture plans write: GP-91506-T, SNR4575573, SNRC8360852, BW-1234-5678...
ID_SHAPES = sorted({re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", r["plan_provider_id"])) for r in ROWS})


def an_id_of_shape(shape: str) -> str:
    return next(
        r["plan_provider_id"]
        for r in ROWS
        if re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", r["plan_provider_id"])) == shape
    )


@pytest.mark.parametrize("shape", ID_SHAPES)
def test_a_plan_provider_id_finds_who_has_it(client, shape):
    written = an_id_of_shape(shape)
    expected = providers_where(ROWS, lambda r: plain(r["plan_provider_id"]) == plain(written))
    for typed in (written, written.lower(), written.replace("-", ""), f"  {written.lower()} "):
        body = search(client, q=typed)
        assert npis(body) == expected, typed
        (phrase,) = body["interpretation"]["phrases"]
        assert phrase["kind"] == "provider_id" and phrase["values"] == [plain(written)]
        assert phrase["label"] == f"Plan provider ID: {plain(written).upper()}"


def one_digit_off(value: str, taken: set[str]) -> str:
    """The value with one digit changed, to a value nobody has."""
    for i, char in enumerate(value):
        if char.isdigit():
            for other in "0123456789":
                changed = value[:i] + other + value[i + 1 :]
                if other != char and changed not in taken:
                    return changed
    raise AssertionError(value)


def test_an_id_one_digit_off_finds_nobody(client):
    taken = {r["plan_provider_id"] for r in ROWS}
    for shape in ID_SHAPES:
        near_miss = one_digit_off(an_id_of_shape(shape), taken)
        assert search(client, q=near_miss)["total"] == 0, near_miss


def phone_forms(number: str) -> list[str]:
    area, exchange, line = number[:3], number[3:6], number[6:]
    return [
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        number,
        f"+1 {area} {exchange} {line}",
        f"1-{area}-{exchange}-{line}",
    ]


def test_a_phone_number_in_any_form_finds_the_providers_at_that_phone(client):
    number = digits(ROWS[0]["phone"])  # "562-555-0196" in the roster
    expected = providers_where(ROWS, lambda r: digits(r["phone"]) == number)
    assert expected
    for typed in phone_forms(number):
        body = search(client, q=typed)
        assert npis(body) == expected, typed
        (phrase,) = body["interpretation"]["phrases"]
        assert phrase["kind"] == "phone" and phrase["values"] == [number]
    label = search(client, q=f"{number[:3]}-{number[3:6]}-{number[6:]}", lang="es")
    assert label["interpretation"]["phrases"][0]["label"] == (
        f"Teléfono: ({number[:3]}) {number[3:6]}-{number[6:]}"
    )


def test_a_phone_number_with_a_name_finds_who_has_both(client):
    row = ROWS[0]
    number = digits(row["phone"])
    body = search(client, q=f"{row['last_name']} {number}")
    expected = providers_where(
        ROWS,
        lambda r: digits(r["phone"]) == number and plain(r["last_name"]) == plain(row["last_name"]),
    )
    assert expected and npis(body) == expected


def test_a_phone_number_one_digit_off_finds_nobody(client):
    taken = {digits(r["phone"]) for r in ROWS}
    number = one_digit_off(digits(ROWS[0]["phone"]), taken | {r["npi"] for r in ROWS})
    for typed in phone_forms(number):
        assert search(client, q=typed)["total"] == 0, typed


def test_ten_digits_that_are_an_npi_and_not_a_phone_still_find_the_provider(client):
    npi = next(r["npi"] for r in ROWS if r["npi"].startswith("1"))
    body = search(client, q=npi)
    assert npis(body) == {npi} and body["interpretation"] is None


# -- initials and titles (the fixture roster) ---------------------------------------------------


def surname_with_initials() -> tuple[str, str]:
    """A last name several providers share, and an initial only some of them have."""
    people: dict[str, set[tuple[str, str]]] = {}
    for r in ROWS:
        if r["entity_type"] == "practitioner":
            people.setdefault(r["last_name"], set()).add((r["first_name"], r["middle_name"]))
    for last, names in sorted(people.items(), key=lambda item: -len(item[1])):
        firsts = sorted({plain(first)[:1] for first, _middle in names})
        if len(firsts) >= 3:
            return last, firsts[len(firsts) // 2]
    raise AssertionError("no shared last name")


def has_initial(row: dict, letter: str) -> bool:
    return any(plain(part)[:1] == letter for part in (row["first_name"], row["middle_name"]))


@pytest.mark.parametrize("form", ["{i} {last}", "{I}. {last}", "{last} {I}", "{last}, {I}."])
def test_an_initial_and_a_last_name_find_only_those_people(client, form):
    last, letter = surname_with_initials()
    typed = form.format(i=letter, I=letter.upper(), last=last)
    body = search(client, q=typed)
    wanted = providers_where(
        ROWS, lambda r: plain(r["last_name"]) == plain(last) and has_initial(r, letter)
    )
    others = providers_where(
        ROWS, lambda r: plain(r["last_name"]) == plain(last) and not has_initial(r, letter)
    )
    assert wanted and others
    found = npis(body)
    assert wanted <= found, typed
    assert not found & others, typed  # never the other people of that last name


def test_first_name_middle_initial_and_last_name(client):
    row = next(
        r
        for r in ROWS
        if r["middle_name"]
        and r["first_name"]
        and plain(r["middle_name"])[:1] != plain(r["first_name"])[:1]
    )
    letter = plain(row["middle_name"])[:1]
    body = search(client, q=f"{row['first_name']} {letter.upper()} {row['last_name']}")
    assert row["npi"] in npis(body)
    for result in body["results"]:
        name = result["name"]
        assert letter in (plain(name["first"])[:1], plain(name["middle"] or "")[:1]), name


@pytest.mark.parametrize(
    "form", ["Dr. {last}", "Dr {last}", "Dra. {last}", "{last} MD", "doctor {last}"]
)
def test_titles_are_not_searched_as_words(client, form):
    last, _letter = surname_with_initials()
    body = search(client, q=form.format(last=last))
    assert body["total"] > 0
    assert npis(body) == npis(search(client, q=last))


# -- plan names (the fixture roster) -------------------------------------------------------------


def plan_names() -> dict[str, str]:
    return {r["plan"]: r["plan_name"] for r in ROWS}


def with_plan(codes, line_of_business=None) -> set[str]:
    return providers_where(
        ROWS,
        lambda r: (
            r["plan"] in codes
            and (line_of_business is None or r["line_of_business"] == line_of_business)
        ),
    )


def total_of(client, **params) -> int:
    return search(client, limit=1, facets="false", **params)["total"]


def test_a_plan_name_reads_as_the_plan(client):
    names = plan_names()
    body = search(client, q="golden poppy medi-cal")
    (phrase,) = body["interpretation"]["phrases"]
    medi_cal = [
        c for c, n in names.items() if plain(n) == plain("Golden Poppy Health Plan Medi-Cal")
    ]
    assert phrase["kind"] == "plan" and phrase["values"] == medi_cal
    assert phrase["label"] == "Plan: Golden Poppy Health Plan Medi-Cal"
    assert body["total"] == len(with_plan(medi_cal))
    assert npis(body) <= with_plan(medi_cal)
    spanish = search(client, q="golden poppy medi-cal", lang="es")
    assert (
        spanish["interpretation"]["phrases"][0]["label"]
        == "Plan: Golden Poppy Health Plan Medi-Cal"
    )


def test_brand_words_read_as_every_plan_of_that_name(client):
    names = plan_names()
    body = search(client, q="Golden Poppy", limit=1)
    brand = sorted(c for c, n in names.items() if plain(n).startswith("goldenpoppy"))
    assert len(brand) >= 2
    assert body["interpretation"]["phrases"][0]["values"] == brand
    assert body["total"] == len(with_plan(brand))


def test_a_brand_beside_a_line_of_business_reads_as_plan_and_line(client):
    names = plan_names()
    body = search(client, q="medi-cal sunrise", limit=1)
    read = {p["parameter"]: p["values"] for p in body["interpretation"]["phrases"]}
    sunrise = sorted(c for c, n in names.items() if plain(n).startswith("sunrise"))
    assert read == {"line_of_business": ["medi-cal"], "plan": sunrise}
    assert body["total"] == len(with_plan(sunrise, "medi-cal"))


def test_an_explicit_plan_wins_over_the_plan_read(client):
    explicit = search(client, q="golden poppy medi-cal", plan="bluewave-ppo", limit=1)
    assert explicit["total"] == len(with_plan({"bluewave-ppo"}))


def test_the_page_shows_the_plan_read_as_a_chip(client):
    html = client.get("/?q=golden+poppy+medi-cal&lang=en").get_data(as_text=True)
    assert "Plan: Golden Poppy Health Plan Medi-Cal" in html


# -- compound names and plans of a small roster -------------------------------------------------

with open(FIXTURE_ROSTER, newline="", encoding="utf-8") as _fh:
    COLUMNS = next(csv.reader(_fh))
TEMPLATE = ROWS[0]

PEOPLE = [
    # (first, middle, last)
    ("María", "", "García-López"),
    ("Pedro", "", "Lopez"),
    ("Juan", "", "de la Cruz"),
    ("Ana", "", "Cruz"),
    ("Minh", "Van", "Nguyen"),
    ("Thanh", "", "Nguyen"),
    ("José", "", "Núñez"),
    ("Carmen", "", "Nunez"),
]
PLANS = [
    ("blue-shield-promise", "Blue Shield of California Promise Health Plan", "medi-cal"),
    ("blue-shield-ppo", "Blue Shield PPO", "commercial"),
    ("la-care", "L.A. Care Health Plan", "medi-cal"),
]


def small_roster_rows() -> list[dict]:
    rows = []
    for n, (first, middle, last) in enumerate(PEOPLE):
        code, name, line = PLANS[n % len(PLANS)]
        row = dict(TEMPLATE)
        row.update(
            npi=make_npi(f"19{n:07d}"),
            first_name=first,
            middle_name=middle,
            last_name=last,
            location_id=f"LOC-9{n:05d}",
            phone=f"(562) 555-{n:04d}",
            plan=code,
            plan_name=name,
            line_of_business=line,
            plan_provider_id=f"TST-{n:05d}",
        )
        rows.append(row)
    return rows


@pytest.fixture
def small_client(fresh_engine, fresh_config, tmp_path):
    path = tmp_path / "roster.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(small_roster_rows())
    summary = import_roster(fresh_engine, path)
    assert summary.rows_rejected == 0
    return create_app(fresh_config).test_client()


def npi_of(last: str, first: str) -> str:
    row = next(r for r in small_roster_rows() if (r["first_name"], r["last_name"]) == (first, last))
    return row["npi"]


@pytest.mark.parametrize(
    ("typed", "must", "never"),
    [
        ("garcia lopez", {("García-López", "María")}, {("Lopez", "Pedro")}),
        ("garcia-lopez", {("García-López", "María")}, {("Lopez", "Pedro")}),
        ("Garcia Lopez", {("García-López", "María")}, {("Lopez", "Pedro")}),
        ("García-López", {("García-López", "María")}, {("Lopez", "Pedro")}),
        ("garcialopez", {("García-López", "María")}, {("Lopez", "Pedro")}),
        ("lopez", {("García-López", "María"), ("Lopez", "Pedro")}, set()),
        ("de la cruz", {("de la Cruz", "Juan")}, set()),
        ("dela cruz", {("de la Cruz", "Juan")}, {("Cruz", "Ana")}),
        ("delacruz", {("de la Cruz", "Juan")}, {("Cruz", "Ana")}),
        ("De La Cruz", {("de la Cruz", "Juan")}, set()),
        ("cruz", {("de la Cruz", "Juan"), ("Cruz", "Ana")}, set()),
        ("Nguyen Van Minh", {("Nguyen", "Minh")}, {("Nguyen", "Thanh")}),
        ("Minh Nguyen", {("Nguyen", "Minh")}, {("Nguyen", "Thanh")}),
        ("nunez", {("Núñez", "José"), ("Nunez", "Carmen")}, set()),
        ("Núñez", {("Núñez", "José"), ("Nunez", "Carmen")}, set()),
        ("jose nunez", {("Núñez", "José")}, {("Nunez", "Carmen")}),
    ],
)
def test_compound_names_are_found_every_way_they_are_typed(small_client, typed, must, never):
    found = npis(search(small_client, q=typed))
    assert {npi_of(*name) for name in must} <= found, typed
    assert not {npi_of(*name) for name in never} & found, typed


def codes_named(prefix: str) -> list[str]:
    return sorted(code for code, name, _line in PLANS if plain(name).startswith(plain(prefix)))


def with_small_plan(codes, line=None) -> set[str]:
    return {
        r["npi"]
        for r in small_roster_rows()
        if r["plan"] in codes and (line is None or r["line_of_business"] == line)
    }


@pytest.mark.parametrize(
    ("typed", "brand", "line"),
    [
        ("blue shield", "Blue Shield", None),
        ("Blue Shield medi-cal", "Blue Shield", "medi-cal"),
        ("LA care", "L.A. Care", None),
        ("L.A. Care", "L.A. Care", None),
        ("la care medi-cal", "L.A. Care", "medi-cal"),
    ],
)
def test_plan_names_of_the_live_directory_read_as_the_plan(small_client, typed, brand, line):
    body = search(small_client, q=typed)
    read = {p["parameter"]: p["values"] for p in body["interpretation"]["phrases"]}
    codes = codes_named(brand)
    assert read.get("plan") == codes and read.get("line_of_business") == ([line] if line else None)
    assert npis(body) == with_small_plan(codes, line)
    assert body["interpretation"]["words"] == []
