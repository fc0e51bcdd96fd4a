"""The one relevance score both engines compute, so that `sort=relevance` orders alike on both.

A provider's score is the sum of:

- **words**: for each word left for text search, the best way it matches the provider:
  an exact word of the name `EXACT_NAME`, the start of a word of the name `NAME_PREFIX`, an exact
  word of the rest (specialty, group, office) `EXACT_TEXT`, within the typos its length allows
  `FUZZY` (a word must match at least this way, or the provider is not found at all);
- **primary specialty**: `PRIMARY_SPECIALTY` when specialties are asked for and the provider's
  first-listed specialty is one of them (a cardiologist above an internist who lists cardiology);
- **accepting**: `ACCEPTING` when a plan or line of business is asked for (without an accepting
  filter) and, at a location that matches, that plan accepts new patients;
- **nearness**: with a place, `NEARNESS * 0.5 ** (miles / DECAY_MILES)` for the nearest matching
  location: 4 at the door, 2 at 10 miles, 0.25 at 40.

Fixed weights, not text statistics: the same directory gives the same scores on either engine,
and an exact name always outranks a misspelt one, whatever the distance. Ties are broken by name.
"""

import math

EXACT_NAME = 8.0
NAME_PREFIX = 4.0
EXACT_TEXT = 2.0
FUZZY = 1.0
PRIMARY_SPECIALTY = 3.0
ACCEPTING = 2.0
NEARNESS = 4.0
DECAY_MILES = 10.0
# A name prefix counts from this many letters: "jo" is the start of too many names to mean one.
MIN_PREFIX_LETTERS = 3


def nearness(miles: float) -> float:
    """The nearness part of the score of a location this many miles away."""
    return NEARNESS * math.pow(0.5, miles / DECAY_MILES)


def word_score(exact_name: bool, name_prefix: bool, exact_text: bool) -> float:
    """One matched word's part of the score (the word matched at least within its typos)."""
    if exact_name:
        return EXACT_NAME
    if name_prefix:
        return NAME_PREFIX
    if exact_text:
        return EXACT_TEXT
    return FUZZY
