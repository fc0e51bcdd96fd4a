"""The in-process rate-limit counters (`local://`): windows, expiry, sweeping, no threads."""

import threading
import time

from app import create_app
from app.limits import LocalCounters


def test_a_window_counts_then_starts_again_when_it_expires():
    counters = LocalCounters()
    assert [counters.incr("a", 0.2) for _ in range(3)] == [1, 2, 3]
    assert counters.get("a") == 3
    assert counters.get("b") == 0
    expires = counters.get_expiry("a")
    assert time.time() < expires <= time.time() + 0.2
    time.sleep(0.25)
    assert counters.get("a") == 0
    assert counters.get_expiry("a") <= time.time()
    assert counters.incr("a", 0.2) == 1


def test_clear_and_reset():
    counters = LocalCounters()
    counters.incr("a", 60)
    counters.incr("b", 60, amount=5)
    counters.clear("a")
    assert (counters.get("a"), counters.get("b")) == (0, 5)
    assert counters.reset() == 1
    assert counters.get("b") == 0
    assert counters.check()


def test_callers_gone_quiet_are_swept():
    counters = LocalCounters()
    for n in range(100):
        counters.incr(f"caller-{n}", 0.05)
    counters.incr("steady", 60)
    time.sleep(0.1)
    counters._next_sweep = 0  # the sweep is due
    counters.incr("steady", 60)
    assert set(counters._counts) == {"steady"}
    assert counters.get("steady") == 2


def test_public_searches_are_limited_per_window_without_a_thread_each(
    directory_config, monkeypatch
):
    app = create_app({**directory_config, "PD_RATE_LIMIT": "2/second"})
    client = app.test_client()
    started = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda t: (started.append(t), start(t))[1])
    statuses = []
    for _ in range(3):
        statuses.append(client.get("/v1/health").status_code)
        time.sleep(0.02)  # longer than limits' memory:// timer, which would start a thread each
    assert statuses == [200, 200, 429]
    assert started == []
    time.sleep(1.05)
    assert client.get("/v1/health").status_code == 200
