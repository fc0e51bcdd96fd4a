"""The one relevance score both engines compute, so that `sort=relevance` orders alike on both.

A provider's score is the sum of:

- **words**: for each word left for text search, the best way it matches the provider:
  an exact word of the name as written `EXACT_NAME`, the start of a word of the name
  `NAME_PREFIX`, an exact word of the rest (another form of the first name, specialty, group,
  office) `EXACT_TEXT`, one typo away when the word may carry two `ONE_TYPO`, within the typos its
  length allows `FUZZY` (a word must match at least this way, or the provider is not found);
- **primary specialty**: `PRIMARY_SPECIALTY` when specialties are asked for and the provider's
  first-listed specialty is one of them (a cardiologist above an internist who lists cardiology),
  and `SPECIALIST` more when it is one the words name first (`specialists_first`: for "diabetes",
  read as endocrinology, family and internal medicine, the endocrinologists come first);
- **accepting**: `ACCEPTING` when a plan or line of business is asked for (without an accepting
  filter) and, at a location that matches, that plan accepts new patients;
- **nearness**: with a place, `NEARNESS * 0.5 ** (miles / DECAY_MILES)` for the nearest matching
  location: 4 at the door, 2 at 10 miles, 0.25 at 40.

Fixed weights, not text statistics: the same directory gives the same scores on either engine,
and an exact name always outranks a misspelt one, whatever the distance. Ties are broken by name.
"""

from app.vocab.nucc import describe

EXACT_NAME = 8.0
NAME_PREFIX = 4.0
EXACT_TEXT = 2.0
ONE_TYPO = 1.5
FUZZY = 1.0
PRIMARY_SPECIALTY = 3.0
SPECIALIST = 1.0
ACCEPTING = 2.0
NEARNESS = 4.0
DECAY_MILES = 10.0
# A name prefix counts from this many letters: "jo" is the start of too many names to mean one.
MIN_PREFIX_LETTERS = 3


def specialists_first(values: tuple[str, ...]) -> tuple[str, ...]:
    """Of the specialties one phrase was read as, those it names first: the ones that are not
    primary care ("back pain": physiatry, orthopedics, chiropractic, physical therapy rather than
    family medicine), or the first when all are ("family doctor": family physicians before family
    nurse practitioners)."""
    specialists = tuple(v for v in values if not describe(v).pcp_type)
    return specialists or values[:1]
