"""Rate limits on the public endpoints (Flask-Limiter), keyed by client address."""

import threading
import time

from flask import Blueprint, Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage

# How often (seconds) the counters of callers gone quiet are dropped, inline with a request.
SWEEP_SECONDS = 60.0


class LocalCounters(Storage):
    """`local://`: fixed-window counters in this process, expired when read.

    limits' own `memory://` starts a timer thread to expire keys whenever none is running, which
    on a server a few requests a second apart is a new thread per request; these counters do the
    same bookkeeping inline under one lock.
    """

    STORAGE_SCHEME = ["local"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._next_sweep = time.time() + SWEEP_SECONDS

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._next_sweep = now + SWEEP_SECONDS
            count, expires = self._counts.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + expiry
            count += amount
            self._counts[key] = (count, expires)
            return count

    def get(self, key: str) -> int:
        count, expires = self._counts.get(key, (0, 0.0))
        return count if expires > time.time() else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        expires = self._counts.get(key, (0, 0.0))[1]
        return expires if expires > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            dropped = len(self._counts)
            self._counts = {}
        return dropped

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["PD_RATE_LIMIT_STORAGE"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(get_remote_address, app=app, default_limits=[])
    app.extensions["pd_limiter"] = limiter


def limit_public(app: Flask, blueprint: Blueprint) -> None:
    limiter: Limiter = app.extensions["pd_limiter"]
    # One budget per caller across every public route, not one per route.
    limiter.shared_limit(lambda: app.config["PD_RATE_LIMIT"], scope="public")(blueprint)
