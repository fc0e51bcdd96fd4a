"""Bulk requests sent from threads while the caller builds the next documents.

With one request at a time, Python waits while Elasticsearch indexes a chunk and Elasticsearch
waits while Python builds the next: an import spends most of its indexing time in those waits.
Here the caller puts actions on a bounded queue (memory stays flat) and `senders` threads each run
the client's `streaming_bulk` over it, with its retries and back-off on 429, so Elasticsearch
always has a chunk to index. Results are counted here and read on the caller's thread: callbacks
such as progress never run on a sender thread.
"""

import queue
import threading
from collections.abc import Callable, Iterator

from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

# How long a blocked put or get waits before it looks again at whether to give up.
POLL_SECONDS = 0.2
# How often the count written is passed on while the last requests finish.
FINISH_POLL_SECONDS = 0.05
_END = object()


class BulkSenders:
    def __init__(
        self, client: Elasticsearch, *, senders: int, chunk_size: int, max_retries: int
    ) -> None:
        # A chunk waiting per sender keeps every sender busy without holding the roster.
        self.queue: queue.Queue = queue.Queue(maxsize=senders * chunk_size)
        self.client = client
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.written = 0
        self.failed: list[dict] = []
        self.error: BaseException | None = None
        self.given_up = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._send, name=f"bulk-{n}", daemon=True)
            for n in range(senders)
        ]
        for thread in self.threads:
            thread.start()

    def _actions(self) -> Iterator[dict]:
        while not self.given_up.is_set():
            try:
                action = self.queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if action is _END:
                return
            yield action

    def _send(self) -> None:
        try:
            for ok, item in streaming_bulk(
                self.client,
                self._actions(),
                chunk_size=self.chunk_size,
                max_retries=self.max_retries,
                initial_backoff=0.5,
                raise_on_error=False,
                raise_on_exception=True,
            ):
                with self.lock:
                    if ok:
                        self.written += 1
                    else:
                        self.failed.append(item)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self.error = exc
            self.given_up.set()

    def _put(self, item) -> None:
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue

    def put(self, action: dict) -> None:
        """Queue one action; raises what a sender met (the request that failed for good)."""
        self._put(action)

    def finish(self, written: Callable[[int], None] | None = None) -> None:
        """Wait for every queued action's result, telling `written` the count meanwhile; raises
        what a sender met."""
        for _ in self.threads:
            self._put(_END)
        for thread in self.threads:
            while thread.is_alive():
                thread.join(FINISH_POLL_SECONDS)
                if written is not None:
                    written(self.written)
        if self.error is not None:
            raise self.error

    def give_up(self) -> None:
        """Stop sending (the caller failed): the senders end after their current request."""
        self.given_up.set()
        for thread in self.threads:
            thread.join()
