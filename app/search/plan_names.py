"""Plan names typed in the search box: "golden poppy medi-cal", "blue shield", "LA care" -> the
plans of the live directory they name.

Typed words name a plan when, run together, they are the plan name's first word followed by some
of its other words in order ("sunrise medi-cal" is Sunrise Health Medi-Cal; "L.A. Care" and
"la care" are L.A. Care Health Plan; "blue wave" is BlueWave PPO). The first word is the brand:
"crest" or "health plan" alone name no plan.
"""

from app.vocab.text import compact, tokens

MAX_PLAN_WORDS = 8


def _spelt_from(typed: str, words: list[str]) -> bool:
    """True when `typed` is some of `words`, in order, run together."""
    if not typed:
        return True
    return any(
        typed.startswith(word) and _spelt_from(typed[len(word) :], words[j + 1 :])
        for j, word in enumerate(words)
    )


def names_plan(typed: str, plan_words: list[str]) -> bool:
    """True when the typed words (run together) are the plan's brand and maybe more of its name."""
    if not plan_words or not typed.startswith(plan_words[0]):
        return False
    return _spelt_from(typed[len(plan_words[0]) :], plan_words[1:])


class PlanNames:
    """The live directory's plan names (code -> display name), to read typed words against."""

    def __init__(self, names: dict[str, str]):
        self.names = dict(names)
        self._words = {code: tokens(name) for code, name in self.names.items()}

    def named(self, words: list[str]) -> tuple[str, ...]:
        """The codes of the plans the typed words name, in code order."""
        typed = compact(" ".join(words))
        return tuple(sorted(c for c, plan in self._words.items() if names_plan(typed, plan)))

    def longest_at(self, words: list[str], i: int, min_words: int = 1) -> tuple[int, tuple]:
        """(words taken, plan codes) for the longest run of words from position i that names
        plans, with at least `min_words` words; (0, ()) when none does."""
        for size in range(min(MAX_PLAN_WORDS, len(words) - i), min_words - 1, -1):
            codes = self.named(words[i : i + size])
            if codes:
                return size, codes
        return 0, ()
