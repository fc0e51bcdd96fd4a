"""Chunks of work run in parallel processes, their results in order, a bounded number in flight."""

import collections
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor


def import_workers() -> int:
    """Processes that share an import's CPU work: PD_IMPORT_WORKERS, else one per core."""
    return int(os.environ.get("PD_IMPORT_WORKERS") or os.cpu_count() or 1)


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items (the last shorter), read lazily."""
    source = iter(items)
    while chunk := list(itertools.islice(source, size)):
        yield chunk


def ordered_map(
    work: Callable,
    parts: Iterable,
    workers: int,
    initializer: Callable[[], None] | None = None,
) -> Iterator:
    """`work(part)` for each part, in order: in `workers` processes when there is more than one,
    at most two chunks per worker in flight (memory stays flat), else here. Also here where a
    pool cannot run: a daemonic process (a Celery prefork pool child) may not have children of
    its own, and some systems have no semaphores."""
    parts = iter(parts)
    pool = None
    if workers > 1 and not multiprocessing.current_process().daemon:
        try:
            pool = ProcessPoolExecutor(max_workers=workers, initializer=initializer)
        except (OSError, ValueError):
            pool = None
    if pool is None:
        if initializer is not None:
            initializer()
        for part in parts:
            yield work(part)
        return
    with pool:
        pending: collections.deque = collections.deque()
        for part in parts:
            pending.append(pool.submit(work, part))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
