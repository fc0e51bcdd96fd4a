"""The shared vocabulary: ZIP codes, phones, languages, addresses and NUCC codes as real files
write them."""

import pytest

from app.vocab import languages, nucc, places
from app.vocab.addresses import place_key, standard_street
from app.vocab.phones import PhoneError, parse_phone
from app.vocab.zips import parse_zip


@pytest.mark.parametrize(
    ("written", "five", "plus4"),
    [
        ("90012", "90012", None),
        ("90012-1234", "90012", "1234"),
        ("90012 - 1234", "90012", "1234"),
        ("900121234", "90012", "1234"),  # NPPES and CMS: ZIP+4 with no dash
        ("061051208", "06105", "1208"),
        ("61051208", "06105", "1208"),  # a spreadsheet dropped the leading zero of a ZIP+4
        ("6051208", "00605", "1208"),
        ("6473", "06473", None),  # ... and of a ZIP
        ("602", "00602", None),
        ("6473-0001", "06473", "0001"),
        ("94107.0", "94107", None),  # stored as a number with a decimal part
        ("941070000", "94107", None),  # +0000 means no add-on
        (" 94107 ", "94107", None),
    ],
)
def test_zip_codes_in_the_shapes_real_files_use(written, five, plus4):
    parsed = parse_zip(written)
    assert parsed is not None and (parsed.five, parsed.plus4) == (five, plus4)


@pytest.mark.parametrize("written", ["", "ABCDE", "12", "123456", "1234567890", "00000", "9OO12"])
def test_what_is_not_a_zip_code(written):
    assert parse_zip(written) is None


@pytest.mark.parametrize(
    ("written", "number", "extension"),
    [
        ("2135550100", "(213) 555-0100", None),
        ("213-555-0100", "(213) 555-0100", None),
        ("(213) 555-0100", "(213) 555-0100", None),
        ("1-213-555-0100", "(213) 555-0100", None),
        ("+1 213 555 0100", "(213) 555-0100", None),
        ("213.555.0100 ext. 22", "(213) 555-0100", "22"),
        ("2135550100x4021", "(213) 555-0100", "4021"),
        ("(213) 555-0100 EXT 7", "(213) 555-0100", "7"),
        ("2135550100.0", "(213) 555-0100", None),
    ],
)
def test_phones_keep_their_extension_apart(written, number, extension):
    phone = parse_phone(written)
    assert (phone.number, phone.extension) == (number, extension)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("2.12689E+12", "spreadsheet"),
        ("555-0100", "10 digits"),
        ("213-555-010", "10 digits"),
        ("+44 20 7946 0958", "10 digits"),
        ("call us", "not a phone number"),
        ("213-155-0100", "area code"),
    ],
)
def test_phones_that_cannot_be_used_say_why(written, reason):
    with pytest.raises(PhoneError, match=reason):
        parse_phone(written)


@pytest.mark.parametrize(
    ("written", "tag"),
    [
        ("es", "es"),
        ("spa", "es"),
        ("Spanish", "es"),
        ("SPANISH", "es"),
        ("Español", "es"),
        ("es-MX", "es"),
        ("Cantonese", "yue"),
        ("cantonés", "yue"),
        ("zh-yue", "yue"),
        ("Mandarin", "cmn"),
        ("Chinese", "zh"),
        ("chi", "zh"),
        ("zh-Hant", "zh"),
        ("ASL", "ase"),
        ("American Sign Language", "ase"),
        ("lengua de señas americana", "ase"),
        ("sgn-US", "ase"),
        ("Farsi", "fa"),
        ("Tagalog", "tl"),
        ("Filipino", "tl"),
        ("Cambodian", "km"),
        ("Armenian", "hy"),
        ("vie", "vi"),
        ("Hmong", "hmn"),
        ("iw", "he"),
    ],
)
def test_languages_become_bcp47_tags(written, tag):
    assert languages.to_tag(written) == tag


@pytest.mark.parametrize("written", ["", "Other", "Unknown", "N/A", "xx", "qqq", "12"])
def test_what_is_not_a_language(written):
    assert languages.to_tag(written) is None


def test_a_macrolanguage_finds_its_languages_and_a_language_its_macrolanguage():
    assert {"zh", "cmn", "yue"} <= set(languages.matching_tags("zh"))
    # A roster's "Chinese" may be Cantonese; a roster's Cantonese is not Mandarin.
    assert languages.matching_tags("yue") == ("yue", "zh")
    assert "cmn" not in languages.matching_tags("yue")
    assert languages.matching_tags("es") == ("es",)


@pytest.mark.parametrize(
    ("tag", "english", "spanish"),
    [
        ("es", "Spanish", "Español"),
        ("yue", "Cantonese", "Cantonés"),
        ("cmn", "Mandarin", "Mandarín"),
        ("ase", "American Sign Language", "Lengua de señas americana"),
        ("tl", "Tagalog", "Tagalo"),
    ],
)
def test_language_names_in_english_and_spanish(tag, english, spanish):
    assert languages.name(tag) == english
    assert languages.name(tag, "es") == spanish


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("115 MALL DRIVE", "115 Mall Dr."),
        ("115 mall drive suite 200", "115 MALL DR STE 200"),
        ("9149 Studebaker Road, Suite 220", "9149 STUDEBAKER RD STE 220"),
        ("1200 West 7th Street, Floor 2", "1200 W 7TH ST FL 2"),
    ],
)
def test_one_place_spelt_two_ways_is_one_place(one, other):
    assert standard_street(one) == standard_street(other)
    assert place_key(one, "90012") == place_key(other, "90012")


def test_different_places_stay_apart():
    assert place_key("115 MALL DR", "90012") != place_key("115 MALL DR", "90013")
    assert place_key("115 MALL DR STE 200", "90012") != place_key("115 MALL DR STE 300", "90012")
    assert standard_street("PO BOX 12") == "PO BOX 12"  # kept, though not a street


def test_every_nucc_code_is_known_with_an_entity_type():
    table = nucc.specialties()
    assert len(table) >= 883
    assert nucc.lookup("363L00000X").entity_type == "practitioner"  # nurse practitioner
    assert nucc.lookup("1223G0001X").entity_type == "practitioner"  # general dentist
    assert nucc.lookup("261QU0200X").entity_type == "urgent_care"
    assert nucc.lookup("261QF0400X").entity_type == "clinic"  # FQHC
    assert nucc.lookup("193200000X").entity_type == "clinic"  # multi-specialty group
    assert nucc.lookup("282N00000X").entity_type == "hospital"
    assert nucc.lookup("3336C0003X").entity_type == "pharmacy"
    assert nucc.lookup("291U00000X").entity_type == "lab"
    assert nucc.lookup("332B00000X").entity_type == "other"  # medical equipment supplier
    assert {s.entity_type for s in table.values()} == {
        "practitioner",
        "clinic",
        "urgent_care",
        "hospital",
        "pharmacy",
        "lab",
        "other",
    }


def test_primary_care_codes_carry_their_pcp_type():
    expected = {
        "207Q00000X": "family",
        "207R00000X": "internal",
        "208000000X": "pediatrics",
        "208D00000X": "general",
        "207QG0300X": "geriatrics",
        "207RG0300X": "geriatrics",
        "363LF0000X": "family",
        "363LP2300X": "general",
        "363AM0700X": "general",
    }
    for code, pcp_type in expected.items():
        assert nucc.lookup(code).pcp_type == pcp_type
    assert nucc.lookup("207RC0000X").pcp_type is None


def test_labels_in_english_and_spanish_with_english_as_the_fallback():
    table = nucc.specialties()
    with_spanish = [s for s in table.values() if s.display_es != s.display]
    assert len(with_spanish) >= 150
    assert all(s.display_es != s.display for s in table.values() if s.is_pcp)
    anesthesia = nucc.lookup("207L00000X")
    assert "Physician" not in anesthesia.display
    rare = next(s for s in table.values() if s.display_es == s.display)
    assert rare.display  # shown in English rather than not at all


def test_a_code_nucc_does_not_have_is_described_not_dropped():
    unknown = nucc.describe("207XX9999X")
    assert not unknown.known
    assert unknown.display == "Unknown specialty 207XX9999X"
    assert nucc.lookup("207XX9999X") is None
    assert nucc.describe(" 207q00000x ").code == "207Q00000X"


def test_every_code_the_fixtures_use_has_an_english_and_a_spanish_label():
    import csv
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "fixtures"
    codes: set[str] = set()
    for roster in (root / "roster.csv", root / "roster_edge_cases.csv"):
        with open(roster, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                codes.update(c for c in row["taxonomy_codes"].split("|") if c)
    bundle = json.loads((root / "plannet" / "bundle.json").read_text(encoding="utf-8"))
    codes.update(
        coding["code"]
        for entry in bundle["entry"]
        for concept in entry["resource"].get("specialty", [])
        for coding in concept.get("coding", [])
        if coding.get("system") == "http://nucc.org/provider-taxonomy"
    )
    known = {c for c in codes if nucc.lookup(c)}
    assert len(known) >= 40 and codes - known == {"207Q99999X"}  # the edge roster's bad code
    for code in known:
        specialty = nucc.lookup(code)
        assert specialty.display and specialty.display_es != specialty.display, code


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("Robert", "bob"),
        ("Bob", "robert"),
        ("Elizabeth", "liz"),
        ("William", "bill"),
        ("Jesús", "chuy"),
        ("Chuy", "jesus"),
        ("Guadalupe", "lupe"),
        ("Lupe", "guadalupe"),
        ("Francisco", "paco"),
    ],
)
def test_first_names_have_their_other_forms_both_ways(name, form):
    from app.vocab.names import other_forms

    assert form in other_forms(name)


def test_zip_codes_listed_without_a_centre_are_not_placed_at_the_equator():
    # 90085 is listed at 0,0 by the ZIP data; Los Angeles' centre must not be pulled south by it.
    assert places.zip_place("90085").lat is None
    la = places.city_place("los angeles", "CA")
    assert 33.9 < la.lat < 34.2 and -118.5 < la.lon < -118.1
