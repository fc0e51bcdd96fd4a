"""One import rebuilds the directory at a time: a Redis lease across workers, a file lock without
Redis."""

import contextlib
import fcntl
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class DirectoryBusy(RuntimeError):
    """Another import is rebuilding the directory; try again later."""


@contextlib.contextmanager
def waiting_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file, waiting for it, across the processes of this machine
    (the OS drops it if the holder dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class FileLock:
    """One import at a time on this machine; the OS drops the lock if the process dies."""

    def __init__(self, path: Path):
        self.path = path

    @contextlib.contextmanager
    def hold(self, owner: str) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise DirectoryBusy("another import is running") from exc
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def holder(self) -> str | None:
        return None


class RedisLock:
    """One import at a time across workers and machines: a lease in Redis, renewed by its holder
    every third of `lease_seconds` for as long as it holds it.

    A holder that dies stops renewing, so its lease lapses within `lease_seconds`; its job, given
    back by the broker, then takes the lock like anyone else. No one — not even another delivery
    of the same job, which Redis makes when a job outlasts the visibility timeout — enters while
    a live holder renews.
    """

    RENEW = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then"
        " return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
    )
    RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
        " return 0"
    )

    def __init__(self, client, key: str, lease_seconds: int):
        self.client, self.key, self.lease = client, key, max(1, int(lease_seconds))

    @contextlib.contextmanager
    def hold(self, owner: str) -> Iterator[None]:
        token = f"{owner} {uuid.uuid4().hex}"
        if not self.client.set(self.key, token, nx=True, ex=self.lease):
            raise DirectoryBusy(f"another import is running ({self.holder() or 'just ending'})")
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(token, stop), name=f"lease-{owner}", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            # Release only our own lease (compare-and-delete in one step).
            self.client.eval(self.RELEASE, 1, self.key, token)

    def _renew(self, token: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease / 3):
            try:
                if not self.client.eval(self.RENEW, 1, self.key, token, self.lease):
                    log.warning("the import lease %s lapsed while held", self.key)
            except RedisError as exc:
                log.warning("could not renew the import lease %s: %s", self.key, exc)

    def holder(self) -> str | None:
        """Who holds the lock (the owner named to `hold`), if anyone."""
        raw = self.client.get(self.key)
        return raw.decode().split(" ", 1)[0] if raw else None


def import_lock() -> FileLock | RedisLock:
    """The app's lock around everything that rewrites the directory."""
    return current_app.extensions["pd_import_lock"]
