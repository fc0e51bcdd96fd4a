"""Searches through the API on a few threads while something breaks: every answer must be a 200
with the total a healthy directory gave, or it counts as a failed search."""

import threading
import time

SEARCHES = (
    "/v1/providers?near=90012&radius=25&limit=5",
    "/v1/providers?q=pediatrics&limit=5&facets=false",
    "/v1/providers?language=es&pcp=true&limit=5",
    "/v1/providers?specialty=207Q00000X&sort=name&limit=5",
)
THREADS = 3


def expected_totals(client) -> dict[str, int]:
    """Each search's total, read while nothing is breaking."""
    return {path: client.get(path).json["total"] for path in SEARCHES}


class SearchLoad:
    """SEARCHES round and round on THREADS threads from construction until `stop()`, or until
    `stop_at` (time.monotonic()) when given."""

    def __init__(self, app, expected: dict[str, int], stop_at: float | None = None):
        self.app, self.expected, self.stop_at = app, expected, stop_at
        self.stopping = threading.Event()
        self.answered: list[float] = []
        self.failures: list[tuple] = []
        self.threads = [threading.Thread(target=self._search) for _ in range(THREADS)]
        for thread in self.threads:
            thread.start()

    def _running(self) -> bool:
        return not self.stopping.is_set() and (
            self.stop_at is None or time.monotonic() < self.stop_at
        )

    def _search(self) -> None:
        client = self.app.test_client()
        i = 0
        while self._running():
            path = SEARCHES[i % len(SEARCHES)]
            i += 1
            response = client.get(path)
            if response.status_code == 200 and response.json["total"] == self.expected[path]:
                self.answered.append(time.monotonic())
            else:
                self.failures.append(
                    (path, response.status_code, response.get_data(as_text=True)[:300])
                )

    def stop(self) -> None:
        self.stopping.set()
        self.join()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
