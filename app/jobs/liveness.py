"""Which running jobs still have a worker, and what becomes of those that lost theirs.

A worker running a job keeps a short-lived beat for it (in Redis, or beside the job's file without
a broker), renewed three times a lease. A job that reads `running` without a beat lost its worker,
however that happened: the worker was killed, or it gave up the job's broker message when Redis
went away under it, or (without a broker) the process running it on a thread stopped. Every Celery
worker looks for such jobs (`give_back_stalled`), as does, without a broker, a server process at
its first request and a request reading a job; each is queued again, once; a job that has
already run `MAX_RUNS` times fails with the reason instead, so a roster that kills its worker
each time (out of memory, say) does not go round for ever. The runners are idempotent: a job
run again starts over and a second delivery of the same job finds it finished, or waits on the
import lock.
"""

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping

from redis.exceptions import RedisError

from app.audit.record import record_job_end
from app.jobs.store import JobRecord, JobStore

log = logging.getLogger(__name__)

# How many times a job may be started before a lost worker fails it instead of queueing it again.
MAX_RUNS = 5


@contextlib.contextmanager
def beating(store: JobStore, job_id: str, lease: float) -> Iterator[None]:
    """Keep the job's beat while the body runs. A body that raises leaves the beat to lapse
    (a retry extends it), so a job that is neither finished nor retried is found stalled."""
    stop = threading.Event()
    holder = uuid.uuid4().hex

    def beat() -> None:
        try:
            store.beat(job_id, lease, holder)
        except RedisError as exc:
            log.warning("job %s: could not renew its beat: %s", job_id, exc)

    def renew() -> None:
        while not stop.wait(lease / 3):
            beat()

    # The first beat before the body runs: a job must never read running without one.
    beat()

    renewer = threading.Thread(target=renew, name=f"beat-{job_id}", daemon=True)
    renewer.start()
    try:
        yield
    except BaseException:
        stop.set()
        renewer.join()
        raise
    stop.set()
    renewer.join()
    with contextlib.suppress(RedisError):
        store.end_beat(job_id, holder)


def _lost_worker(job: JobRecord) -> dict:
    if job.attempts >= MAX_RUNS:
        return {
            "state": "failed",
            "finished_at": time.time(),
            "error": (
                f"the job's worker stopped while running it, {job.attempts} times (it may need "
                "more memory or time than a worker has); submit it again once that is fixed"
            ),
        }
    return {"state": "queued"}


def give_back_stalled(
    stores: Mapping[str, JobStore],
    submit: Mapping[str, Callable[[str], None]],
    only: str | None = None,
) -> list[tuple[str, str, str]]:
    """Queue again each running job (of each kind; `only` that one) that has no beat, or fail it
    after MAX_RUNS runs. Returns (kind, job id, new state) for each job changed."""
    changed = []
    for kind, store in stores.items():
        for job_id in [only] if only else store.ids_in_state("running"):
            job = store.update_if_stalled(job_id, _lost_worker)
            if job is None:
                continue
            changed.append((kind, job_id, job.state))
            if job.state == "failed":
                log.error("%s job %s: %s", kind, job_id, job.error)
                record_job_end(kind, job)
                continue
            log.warning(
                "%s job %s lost its worker after %d run(s); queued again",
                kind,
                job_id,
                job.attempts,
            )
            try:
                submit[kind](job_id)
            except Exception:
                # Not queued after all: back to running without a beat, for the next look.
                store.update(job_id, state="running")
                raise
    return changed
