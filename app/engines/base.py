"""The contract both engines implement: write a generation, swap it live, search, get by NPI."""

import abc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.search.query import SearchQuery
from app.search.suggest import DirectoryNames


class EngineUnavailable(RuntimeError):
    """The engine cannot answer (server down, or no directory built yet)."""


class GenerationFailed(RuntimeError):
    """A new generation could not be completed; the live one is untouched."""


@dataclass
class Hit:
    doc: dict
    matched_locations: list[int] | None  # indexes into doc["locations"]; None means all
    sort: list


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    more: bool = False


def new_generation_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dt%H%M%S%fz")


def plan_names_of(documents: Iterable[dict], names: dict[str, str]) -> Iterable[dict]:
    """Pass documents through, noting each plan code's display name on the way."""
    for doc in documents:
        for location in doc["locations"]:
            for plan in location["plans"]:
                names.setdefault(plan["plan"], plan["plan_name"])
        yield doc


class GenerationWriter(abc.ABC):
    """A directory being built beside the live one; published in one atomic step or discarded."""

    name: str
    plan_names: dict[str, str]

    @abc.abstractmethod
    def write(
        self, documents: Iterable[dict], acknowledged: Callable[[int], None] | None = None
    ) -> int:
        """Add provider documents; returns how many were written. `acknowledged(count)` is told
        the running count as the engine takes them (for progress; it must be cheap)."""

    @abc.abstractmethod
    def publish(self, expected: int) -> None:
        """Check the count and make this generation the live directory atomically."""

    @abc.abstractmethod
    def discard(self) -> None:
        """Remove the half-built generation."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.discard()
        return False


class Engine(abc.ABC):
    name: str

    @abc.abstractmethod
    def new_generation(self) -> GenerationWriter: ...

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abc.abstractmethod
    def get(self, npi: str) -> dict | None: ...

    @abc.abstractmethod
    def documents(self) -> Iterator[dict]:
        """Every provider document of the live generation, in NPI order, read a page at a time."""

    @abc.abstractmethod
    def live_generation(self) -> str:
        """The name of the live generation (cheap); raises EngineUnavailable when none is."""

    @abc.abstractmethod
    def health(self) -> dict:
        """{engine, generation, providers, locations}; raises EngineUnavailable."""

    @abc.abstractmethod
    def apply_changes(self, upserts: Iterable[dict], deletions: Iterable[str]) -> dict:
        """Change the live generation in place: replace or add these providers' documents and
        remove these NPIs, all at once. Returns {"upserted", "deleted"} counts."""

    @abc.abstractmethod
    def remove_unpublished(self) -> int:
        """Delete generations left half-built by an import that died; returns how many."""

    @abc.abstractmethod
    def plan_names(self) -> dict[str, str]:
        """Display names of the plan codes in the live generation."""

    @abc.abstractmethod
    def suggest(self, prefix_words: tuple[str, ...], limit: int) -> list[dict]:
        """Providers whose name completes the typed words (a key of app.search.suggest.word_keys
        starts with them), best first: a whole last word before a started one, then the most
        locations, then by sort_name and NPI; at most `limit`. Each as {kind, npi, label,
        sort_name, popularity (locations), exact, specialty (primary code), city (first
        location's)}."""

    @abc.abstractmethod
    def directory_names(self) -> DirectoryNames:
        """The groups, offices and cities of the live directory with their locations, and the
        specialty and language codes with their providers; the same object until it changes."""

    @abc.abstractmethod
    def generations(self) -> list[dict]:
        """Generations on disk or in the cluster, newest first, with which one is live."""

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing here
        pass
