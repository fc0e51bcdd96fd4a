"""Searches near a point, in memory: the view's places and who is at each as arrays, read once
per view and process, and each clause's set of rows kept while it is asked again.

A dense city at a million locations puts hundreds of thousands of roles inside ten miles; SQL
walks every one of them per search (R*Tree, then one lookup per row for each other clause).
Here the circle is one vectorised pass over the places in its latitude band, the roles at those
places are ranges of one array, and each clause is a sorted array of row ids the candidates are
looked up in. The answer is the SQL one (app.fhir.search checks it in the tests): the same
great-circle formula on the same unit vectors, the same order (nearest, then row id).
"""

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from app.search.geo import EARTH_RADIUS_MILES, bounding_box, unit_vector

# Clause sets kept per process (bytes of row ids): the hot ones (a network, a language, the
# common specialties) stay; the rest are read again when asked.
CLAUSE_CACHE_BYTES = 256 * 1024 * 1024
# Distances within this many miles of the radius are computed again one at a time with the
# formula SQL uses, so a vectorised arccos a unit in the last place off never moves a place
# across the edge.
EDGE_MILES = 1e-9


@dataclass(frozen=True)
class Members:
    """The resources found through one reference parameter, grouped by place: those at place i
    are rids[starts[i]:starts[i + 1]]."""

    rids: np.ndarray
    starts: np.ndarray
    once: bool  # no resource at two places


class Places:
    """Every located Location of one view: row ids, latitudes (sorted) and unit vectors."""

    def __init__(self, view) -> None:
        rows = view.run("SELECT rid, lat, x, y, z FROM positions", [])
        table = np.array(rows, dtype=np.float64).reshape(-1, 5)
        table = table[np.lexsort((table[:, 0], table[:, 1]))]  # by latitude
        self.rids = table[:, 0].astype(np.int64)
        self.lat = np.ascontiguousarray(table[:, 1])
        self.x = np.ascontiguousarray(table[:, 2])
        self.y = np.ascontiguousarray(table[:, 3])
        self.z = np.ascontiguousarray(table[:, 4])
        # Place index of a location row id, for reading who is where.
        self.by_rid = np.argsort(self.rids, kind="stable")
        self.members: dict[int, Members] = {}
        self.lock = threading.Lock()

    def within(self, lat: float, lon: float, miles: float) -> tuple[np.ndarray, np.ndarray]:
        """(place indexes, miles) of the places within `miles` of the point."""
        min_lat, max_lat, _min_lon, _max_lon = bounding_box(lat, lon, miles)
        low = int(np.searchsorted(self.lat, min_lat, side="left"))
        high = int(np.searchsorted(self.lat, max_lat, side="right"))
        ux, uy, uz = unit_vector(lat, lon)
        cosine = self.x[low:high] * ux + self.y[low:high] * uy + self.z[low:high] * uz
        distance = EARTH_RADIUS_MILES * np.arccos(np.clip(cosine, -1.0, 1.0))
        edge = np.flatnonzero(np.abs(distance - miles) <= EDGE_MILES)
        for i in edge:  # pragma: no cover - a place on the circle to within a nano-mile
            distance[i] = EARTH_RADIUS_MILES * math.acos(min(1.0, max(-1.0, float(cosine[i]))))
        inside = np.flatnonzero(distance <= miles)
        return inside + low, distance[inside]

    def members_of(self, view, param: int) -> Members:
        """Who points at each place through the reference parameter `param` (read once)."""
        with self.lock:
            found = self.members.get(param)
            if found is None:
                found = self.members[param] = self._read_members(view, param)
            return found

    def _read_members(self, view, param: int) -> Members:
        pairs = np.array(
            view.run(
                "SELECT r.rid, p.rid FROM positions p"
                " JOIN refs r INDEXED BY refs_target ON r.param = ? AND r.target = p.key",
                [param],
            ),
            dtype=np.int64,
        ).reshape(-1, 2)
        sorted_rids = self.rids[self.by_rid]
        place = self.by_rid[np.searchsorted(sorted_rids, pairs[:, 1])]
        order = np.lexsort((pairs[:, 0], place))
        counts = np.bincount(place, minlength=len(self.rids))
        starts = np.zeros(len(self.rids) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        once = len(np.unique(pairs[:, 0])) == len(pairs)
        return Members(np.ascontiguousarray(pairs[order, 0]), starts, once)


def gathered(members: Members, places: np.ndarray, miles: np.ndarray):
    """(rids, miles) of the resources at the given places."""
    starts, ends = members.starts[places], members.starts[places + 1]
    sizes = ends - starts
    total = int(sizes.sum())
    if not total:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    # The k-th row gathered is row k - (where its range begins here) + (where it begins there).
    begins_here = np.cumsum(sizes) - sizes
    rows = np.arange(total, dtype=np.int64) + np.repeat(starts - begins_here, sizes)
    return members.rids[rows], np.repeat(miles, sizes)


class RowSet:
    """One clause's rows as a mask over every row id of the view: a candidate is looked up with
    one read (in a sorted array, hundreds of thousands of candidates would each be a binary
    search, a cache miss a step). One byte a row of the view: 3.6 MB at a million locations."""

    def __init__(self, rids: np.ndarray, rows: int) -> None:
        self.mask = np.zeros(rows, dtype=bool)
        self.mask[rids] = True
        self.nbytes = self.mask.nbytes

    def holds(self, rids: np.ndarray) -> np.ndarray:
        """Which of `rids` are in the set (a mask)."""
        return self.mask[rids]


class ClauseSets:
    """Each clause's rows as a RowSet, kept (least recently used out) per view."""

    def __init__(self, budget: int = CLAUSE_CACHE_BYTES) -> None:
        self.budget = budget
        self.used = 0
        self.sets: OrderedDict[tuple, RowSet] = OrderedDict()
        self.lock = threading.Lock()
        self.rows: int | None = None

    def rows_of(self, view, sql: str, args: list) -> RowSet:
        key = (sql, tuple(args))
        with self.lock:
            found = self.sets.get(key)
            if found is not None:
                self.sets.move_to_end(key)
                return found
        if self.rows is None:
            (largest,) = view.run("SELECT max(rid) FROM resources", [])[0]
            self.rows = (largest or 0) + 1
        cursor = view.db.execute(sql, args)
        rids = np.unique(np.fromiter((row[0] for row in cursor), dtype=np.int64))
        found = RowSet(rids, self.rows)
        with self.lock:
            if key not in self.sets and found.nbytes <= self.budget:
                self.sets[key] = found
                self.used += found.nbytes
                while self.used > self.budget:
                    _, dropped = self.sets.popitem(last=False)
                    self.used -= dropped.nbytes
        return found


class Memory:
    """The in-memory parts of one view (places, clause sets), made when first asked."""

    def __init__(self, inode: int) -> None:
        self.inode = inode
        self.clauses = ClauseSets()
        self._places: Places | None = None
        self.lock = threading.Lock()

    def places(self, view) -> Places:
        with self.lock:
            if self._places is None:
                self._places = Places(view)
            return self._places


_memories: dict[str, Memory] = {}
_memories_lock = threading.Lock()


def memory_of(view) -> Memory:
    """The in-memory parts of `view`, shared by the process's threads (one view per path: a new
    view swapped in replaces the old one's)."""
    key = str(view.path)
    with _memories_lock:
        found = _memories.get(key)
        if found is None or found.inode != view.inode:
            found = _memories[key] = Memory(view.inode)
        return found


def nearest(view, kind_via: int | None, lat: float, lon: float, miles: float, clauses, page):
    """(total, [(rid, miles)] of the page) of the resources near a point (through the reference
    parameter `kind_via`, or the Locations themselves), in every clause's set (each a
    (sql, args, negated)), nearest first then by row id; `page` is (offset, count) or None."""
    memory = memory_of(view)
    places = memory.places(view)
    inside, distance = places.within(lat, lon, miles)
    once = True
    if kind_via is None:
        rids = places.rids[inside]
    else:
        members = places.members_of(view, kind_via)
        rids, distance = gathered(members, inside, distance)
        once = members.once
    for sql, args, negated in clauses:
        found = memory.clauses.rows_of(view, sql, args).holds(rids)
        keep = ~found if negated else found
        rids, distance = rids[keep], distance[keep]
    if not once:
        # A resource at two places in the circle counts once, at the nearer.
        order = np.lexsort((rids, distance))
        rids, distance = rids[order], distance[order]
        _, first = np.unique(rids, return_index=True)
        first.sort()
        rids, distance = rids[first], distance[first]
    total = len(rids)
    if page is None:
        return total, []
    offset, count = page
    first, last = _page(rids, distance, offset, count)
    return total, [(int(r), float(d)) for r, d in zip(first, last, strict=True)]


def _page(rids: np.ndarray, distance: np.ndarray, offset: int, count: int):
    """The page's (rids, miles), nearest then lowest rid first, sorting only what can be on it:
    the rows no farther than the (offset + count)-th nearest."""
    end = offset + count
    if end < len(rids):
        kth = np.partition(distance, end - 1)[end - 1]
        keep = np.flatnonzero(distance <= kth)  # ties at the edge too: the rid decides
        rids, distance = rids[keep], distance[keep]
    order = np.lexsort((rids, distance))[offset:end]
    return rids[order], distance[order]
