"""Opening hours as rosters write them -> the times a location is open (`OPEN_TIMES` codes).

"Mon-Fri 8:00-17:00; Sat 9:00-13:00" is open `mon`..`sat`; "M-F 7:30am-6:30pm" also `early`
(opens before 8:00) and `evening` (open after 18:00); "24/7" is every code. Days come as names,
abbreviations and single letters, ranges (Mon-Fri, M-F, lunes a viernes), lists (Mon, Wed, Fri;
MWF) and words (daily, weekdays, weekends); times in 24-hour or am/pm form, with or without
minutes, before or after their days; `closed` and `except` take days away. Text that names no
day and no time is open at no known time: the location is simply not found by hours.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from app.vocab.codes import OPEN_TIMES, WEEKDAYS
from app.vocab.text import fold

DAY_MINUTES = 24 * 60
EVENING_AFTER = 18 * 60  # open past 18:00 on some day: "open evenings", "after work"
EARLY_BEFORE = 8 * 60  # open before 8:00 on some day: "early morning"
_ALL_DAYS = frozenset(range(len(WEEKDAYS)))

_DAY_NAMES = (
    ("monday", "mondays", "mon", "mo", "m", "lunes", "lun"),
    ("tuesday", "tuesdays", "tue", "tues", "tu", "t", "martes", "mar"),
    ("wednesday", "wednesdays", "wed", "weds", "w", "miercoles", "mie", "mier"),
    ("thursday", "thursdays", "thu", "thur", "thurs", "th", "jueves", "jue"),
    ("friday", "fridays", "fri", "fr", "f", "viernes", "vie"),
    ("saturday", "saturdays", "sat", "sa", "sabado", "sabados", "sab"),
    ("sunday", "sundays", "sun", "su", "domingo", "domingos", "dom"),
)
DAY_WORDS = {name: day for day, names in enumerate(_DAY_NAMES) for name in names}
DAY_SETS = {
    "daily": _ALL_DAYS,
    "weekdays": frozenset(range(5)),
    "weekday": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    "weekend": frozenset({5, 6}),
}
CLOSED_WORDS = frozenset({"closed", "cerrado", "cerrados"})
EXCEPT_WORDS = frozenset({"except", "excluding", "excepto", "menos"})
# Single-letter days run together: "MWF", "TTh", "MTWThF".
_LETTER_RUN = re.compile(r"(?:th|tu|sa|su|m|t|w|f)+")
_LETTER_DAY = re.compile(r"th|tu|sa|su|m|t|w|f")

# Rewrites before reading, in order: am/pm as one suffix, whole-day and every-day phrases as one
# word each, and the words that join a range as a dash.
_REWRITES = (
    (re.compile(r"(\d)\s*([ap])\.?\s?m\b\.?"), r"\1\2m"),
    (re.compile(r"(\d)([ap])\b"), r"\1\2m"),
    (re.compile(r"\b(?:noon|mediodia)\b"), " 12pm "),
    (re.compile(r"\b(?:midnight|medianoche)\b"), " 12am "),
    (
        re.compile(r"24\s*[/x]\s*7|\b24\s*(?:hours|hour|hrs|hr|h|horas)\b|around the clock"),
        " allday ",
    ),
    (
        re.compile(
            r"\b(?:7|seven|siete)\s*(?:days|dias)(?:\s*(?:a|per|/|por|a la)\s*(?:week|semana))?"
            r"|\bevery\s*day\b|\btodos los dias\b|\bdiario\b|\beveryday\b"
        ),
        " daily ",
    ),
    (re.compile(r"\bfines? de semana\b"), " weekend "),
    (re.compile(r"\bentre semana\b"), " weekdays "),
    (re.compile(r"\b(?:to|thru|through|until|till|til|hasta|a|al)\b|[\u2010-\u2015]"), " - "),
)
_TOKEN = re.compile(
    r"(?P<time>\d+(?:[:.]\d{2})?(?:am|pm)?)|(?P<word>[a-z]+)|(?P<dash>-)|(?P<hard>[;\n|])"
)
_TIME = re.compile(r"(\d+)(?:[:.](\d{2}))?(am|pm)?")

Token = tuple[str, object]
Clock = tuple[int, int, str | None]  # hour, minute, "am" / "pm" / None


@dataclass(frozen=True)
class OpenSpan:
    """Days of the week (`WEEKDAYS` indexes) open from `start` to `end` (minutes from midnight,
    `end` past 1440 when open past midnight); both None when the text gives the days only."""

    days: tuple[int, ...]
    start: int | None = None
    end: int | None = None


@dataclass
class _Clause:
    """Days and the times they are open ("Mon-Fri 8-17"), or days that are closed."""

    groups: list[frozenset[int]] = field(default_factory=list)  # one per day word or range
    spans: list[tuple[int, int]] = field(default_factory=list)  # minutes from midnight
    closed: bool = False
    excepted: bool = False  # "except Sun": the days that follow are taken away
    complete: bool = False  # "Sun closed": no more days join it

    @property
    def days(self) -> frozenset[int]:
        return frozenset().union(*self.groups)

    @property
    def empty(self) -> bool:
        return not (self.groups or self.spans or self.closed)


def open_times(text: str | None) -> tuple[str, ...]:
    """The `OPEN_TIMES` codes of an hours text, in the code list's order; () when it says none."""
    if not isinstance(text, str) or not text.strip():
        return ()
    return _open_times(text)


@lru_cache(maxsize=4096)  # a roster repeats a few dozen hours texts over thousands of rows
def _open_times(text: str) -> tuple[str, ...]:
    days, spans = _read(_tokens(text))
    found = {WEEKDAYS[d] for d in days}
    if any(end > EVENING_AFTER for _start, end in spans):
        found.add("evening")
    if any(start < EARLY_BEFORE for start, _end in spans):
        found.add("early")
    return tuple(code for code in OPEN_TIMES if code in found)


def weekly_hours(text: str | None) -> tuple[OpenSpan, ...]:
    """The hours text as a week table, one entry per days-and-times it gives, in its order.

    Days that a `closed` or `except` takes away are left out; times given without any day are
    left out (they say nothing about which days), except round-the-clock ("24/7", "Open 24
    hours"), which is every day.
    """
    if not isinstance(text, str) or not text.strip():
        return ()
    return _weekly_hours(text)


@lru_cache(maxsize=4096)
def _weekly_hours(text: str) -> tuple[OpenSpan, ...]:
    clauses = _clauses(_tokens(text))
    closed = frozenset().union(*(c.days for c in clauses if c.closed))
    any_days = any(c.groups for c in clauses)
    table: list[OpenSpan] = []
    for clause in clauses:
        if clause.closed:
            continue
        if clause.groups:
            days = clause.days - closed
        elif not any_days and (0, DAY_MINUTES) in clause.spans:
            days = _ALL_DAYS
        else:
            continue
        if not days:
            continue
        ordered = tuple(sorted(days))
        if not clause.spans:
            table.append(OpenSpan(ordered))
        table.extend(OpenSpan(ordered, start, end) for start, end in clause.spans)
    return tuple(table)


def _tokens(text: str) -> list[Token]:
    normal = fold(text)
    for pattern, replacement in _REWRITES:
        normal = pattern.sub(replacement, normal)
    found: list[Token] = []
    for match in _TOKEN.finditer(normal):
        if match["time"]:
            clock = _clock(match["time"])
            found.append(("time", clock) if clock else ("junk", None))
        elif match["dash"]:
            found.append(("dash", None))
        elif match["hard"]:
            found.append(("hard", None))
        else:
            found.extend(_word(match["word"]))
    return found


def _word(word: str) -> list[Token]:
    if word in DAY_WORDS:
        return [("day", DAY_WORDS[word])]
    if word in DAY_SETS:
        return [("days", DAY_SETS[word])]
    if word in CLOSED_WORDS:
        return [("closed", None)]
    if word in EXCEPT_WORDS:
        return [("except", None)]
    if word == "allday":
        return [("allday", None)]
    if _LETTER_RUN.fullmatch(word):
        letters = _LETTER_DAY.findall(word)
        return [("days", frozenset(DAY_WORDS[letter] for letter in letters))]
    return []  # any other word ("hours", "open", "by appointment") says nothing


def _clock(token: str) -> Clock | None:
    digits, minutes, suffix = _TIME.fullmatch(token).groups()
    if minutes is None and len(digits) in (3, 4):  # 0830, 1700
        digits, minutes = digits[:-2], digits[-2:]
    if len(digits) > 2:
        return None
    hour, minute = int(digits), int(minutes or 0)
    if minute > 59 or hour > 24 or (suffix and not 1 <= hour <= 12):
        return None
    return hour, minute, suffix


def _read(tokens: list[Token]) -> tuple[frozenset[int], list[tuple[int, int]]]:
    """The open days and the open spans of a token list."""
    return _open(_clauses(tokens))


def _clauses(tokens: list[Token]) -> list[_Clause]:
    """The clauses of a token list, times alone joined to the days after them."""
    leading = next((kind for kind, _ in tokens if kind in ("day", "days", "time", "allday")), "")
    times_first = leading in ("time", "allday")  # "8am-5pm Monday-Friday"
    clauses = [_Clause()]
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "day":
            days = frozenset({value})
            if _at(tokens, i + 1, "dash") and _at(tokens, i + 2, "day"):
                days = _day_range(value, tokens[i + 2][1])
                i += 2
            _add_days(clauses, days, times_first)
        elif kind == "days":
            _add_days(clauses, value, times_first)
        elif kind == "time" and _at(tokens, i + 1, "dash") and _at(tokens, i + 2, "time"):
            span = _span(value, tokens[i + 2][1])
            if span is not None:
                _add_span(clauses, span, times_first)
            i += 2
        elif kind == "allday":
            _add_span(clauses, (0, DAY_MINUTES), times_first)
        elif kind == "closed":
            current = clauses[-1]
            if current.groups and not current.spans and not current.closed:
                current.closed = current.complete = True  # "Sat, Sun closed"
            else:
                clauses.append(_Clause(closed=True))  # "closed Sunday"
        elif kind == "except":
            clauses.append(_Clause(closed=True, excepted=True))
        elif kind == "hard" and not clauses[-1].empty:
            clauses.append(_Clause())
        i += 1
    return _merged(clauses)


def _at(tokens: list[Token], i: int, kind: str) -> bool:
    return i < len(tokens) and tokens[i][0] == kind


def _day_range(first: int, last: int) -> frozenset[int]:
    """Days from first to last, wrapping past Sunday (Fri-Mon)."""
    count = (last - first) % len(WEEKDAYS) + 1
    return frozenset((first + step) % len(WEEKDAYS) for step in range(count))


def _add_days(clauses: list[_Clause], days: frozenset[int], times_first: bool) -> None:
    current = clauses[-1]
    # Days read after the times of their clause start the next one, unless times come first.
    if current.complete or (current.spans and not times_first):
        current = _Clause()
        clauses.append(current)
    current.groups.append(days)


def _add_span(clauses: list[_Clause], span: tuple[int, int], times_first: bool) -> None:
    current = clauses[-1]
    if times_first:
        if current.groups or current.closed:
            current = _Clause()
            clauses.append(current)
    elif current.closed and not current.complete:
        current.complete = True
        before = clauses[-2] if len(clauses) > 1 else None
        if current.excepted and before and before.groups and not before.spans:
            current = before  # "Mon-Fri except Wed 8-5": the times are Mon-Fri's
        elif current.groups:
            # "closed Sun, Mon-Fri 8-5": the days just before the times are open.
            current = _Clause(groups=[current.groups.pop()])
            clauses.append(current)
        else:
            return  # "closed 12-1": a lunch break says nothing about when it is open
    current.spans.append(span)


def _merged(clauses: list[_Clause]) -> list[_Clause]:
    """Times alone joined to the days right after them ("Mon-Fri 8-5; 9-1 Sat")."""
    merged: list[_Clause] = []
    for clause in clauses:
        before = merged[-1] if merged else None
        if (
            before is not None
            and before.spans
            and not before.groups
            and not before.closed
            and clause.groups
            and not clause.spans
            and not clause.closed
        ):
            before.groups = clause.groups
        else:
            merged.append(clause)
    return merged


def _open(clauses: list[_Clause]) -> tuple[frozenset[int], list[tuple[int, int]]]:
    closed = frozenset().union(*(c.days for c in clauses if c.closed))
    days: set[int] = set()
    spans: list[tuple[int, int]] = []
    dayless: list[tuple[int, int]] = []
    for clause in clauses:
        if clause.closed:
            continue
        if clause.groups:
            open_days = clause.days - closed
            days |= open_days
            if open_days:
                spans.extend(clause.spans)
        else:
            dayless.extend(clause.spans)
    if not any(c.groups for c in clauses):
        # Times without days: "24 hours" is every day; "8am-8pm" tells the times, not the days.
        if (0, DAY_MINUTES) in dayless:
            days = set(_ALL_DAYS)
        spans.extend(dayless)
    return frozenset(days), spans


def _span(start: Clock, end: Clock) -> tuple[int, int] | None:
    """Minutes from midnight of an opening time and a closing time, reading the clock as a roster
    means it: "8-5" is 8:00-17:00, "8-5pm" 8am-5pm, "9am-1" 9am-1pm, "20:00-2:00" past midnight."""
    (h1, m1, s1), (h2, m2, s2) = start, end
    if s1 and s2:
        first, last = _minutes(h1, m1, s1), _minutes(h2, m2, s2)
    elif s2:
        first, last = _minutes(h1, m1, s2), _minutes(h2, m2, s2)
        if first > last:
            first = _minutes(h1, m1, _other(s2))
    elif s1:
        first, last = _minutes(h1, m1, s1), _minutes(h2, m2, s1)
        if last <= first:
            last = _minutes(h2, m2, _other(s1))
    elif h1 > 12 or h2 > 12 or h1 == 0 or h2 == 0:
        first, last = h1 * 60 + m1, h2 * 60 + m2
    else:
        # A 12-hour clock without am/pm: nobody opens at 1 to 5 in the night, and a closing
        # time before the opening one is in the afternoon.
        first = (h1 + 12 if h1 < 6 else h1) * 60 + m1
        last = h2 * 60 + m2
        if last <= first:
            last += 12 * 60
    if last == 0:
        last = DAY_MINUTES  # closes at midnight
    if last <= first:
        last += DAY_MINUTES  # open past midnight
    if not 0 <= first < DAY_MINUTES or last > 2 * DAY_MINUTES:
        return None
    return first, last


def _minutes(hour: int, minute: int, suffix: str) -> int:
    return ((hour % 12) + (12 if suffix == "pm" else 0)) * 60 + minute


def _other(suffix: str) -> str:
    return "am" if suffix == "pm" else "pm"
