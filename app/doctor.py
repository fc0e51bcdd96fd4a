"""`provider-directory doctor`: whether this installation can serve and run jobs, one check at a
time — configuration, data folder, engine, Redis, Celery workers, free disk."""

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from app.auth import parse_keys
from app.config import from_environment

GIB = 1024**3
DEFAULT_MIN_FREE_GIB = 2.0
DEFAULT_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Check:
    """One line of the report. status: OK, WARN (works, but look), FAIL, or SKIP (not used)."""

    name: str
    status: str
    message: str
    hint: str | None = None

    def line(self) -> str:
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.status:<4} {self.name}: {self.message}{hint}"


def check_keys(config: Mapping) -> Check:
    try:
        keys = parse_keys(config.get("PD_API_KEYS"))
    except ValueError as exc:
        return Check(
            "staff keys",
            "FAIL",
            str(exc),
            "entries are name:role:key or name:role:sha256:<hex>; "
            "`provider-directory new-key NAME ROLE` makes one",
        )
    if not keys:
        return Check("staff keys", "WARN", "PD_API_KEYS is empty: staff endpoints refuse everyone")
    roles = Counter(staff.role for _, staff in keys)
    counts = ", ".join(f"{role} {count}" for role, count in sorted(roles.items()))
    return Check("staff keys", "OK", f"{len(keys)} key(s): {counts}")


def check_data_dir(config: Mapping) -> Check:
    folder = Path(config["PD_DATA_DIR"]).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            "data folder",
            "FAIL",
            f"{folder} is not writable ({exc.strerror or exc})",
            "set PD_DATA_DIR to a folder this user may write, shared by the web and workers",
        )
    return Check("data folder", "OK", f"{folder} is writable")


def check_engine(config: Mapping, timeout: float) -> Check:
    from app.engines import create_engine
    from app.engines.base import EngineUnavailable

    url = config.get("ELASTICSEARCH_URL")
    where = f"Elasticsearch at {shown(url)}" if url else f"embedded in {config['PD_DATA_DIR']}"
    engine = None
    try:
        engine = create_engine(
            {**config, "PD_ES_TIMEOUT": min(float(config["PD_ES_TIMEOUT"]), timeout)}
        )
        health = engine.health()
    except EngineUnavailable as exc:
        # An unbuilt directory's message already says what to run.
        unbuilt = "not been built" in str(exc)
        hint = None if unbuilt else "start Elasticsearch or fix ELASTICSEARCH_URL"
        return Check("engine", "FAIL", f"{where}: {exc}", hint)
    except Exception as exc:  # a refusal from the cluster, a damaged file: say what it was
        return Check("engine", "FAIL", f"{where}: {type(exc).__name__}: {exc}")
    finally:
        if engine is not None:
            engine.close()
    return Check(
        "engine",
        "OK",
        f"{where}: generation {health['generation']} is live with {health['providers']:,} "
        f"providers at {health['locations']:,} locations",
    )


def shown(url: str) -> str:
    """A server URL as printed: any password in it replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def redis_url(config: Mapping) -> str | None:
    """The Redis the app uses for job state and the import lock (app.jobs.executors)."""
    return config.get("PD_REDIS_URL") or config.get("PD_BROKER_URL")


def _ping_redis(url: str, timeout: float) -> str | None:
    """None when Redis at `url` answers, else what went wrong."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def check_redis(config: Mapping, timeout: float) -> Check:
    url = redis_url(config)
    if not url:
        return Check("redis", "SKIP", "not configured: job state and the import lock in files")
    problem = _ping_redis(url, timeout)
    if problem:
        return Check(
            "redis",
            "FAIL",
            f"{shown(url)}: {problem}",
            "start Redis or fix PD_REDIS_URL / PD_BROKER_URL",
        )
    return Check("redis", "OK", f"{shown(url)} answers")


def check_workers(config: Mapping, timeout: float) -> Check:
    """Celery workers consuming the app's queue: a broadcast every worker answers (its queues),
    which is a ping that also says what each one listens to."""
    broker, queue = config.get("PD_BROKER_URL"), config["PD_QUEUE"]
    if not broker:
        return Check("workers", "SKIP", "no broker (PD_BROKER_URL): jobs run on a thread")
    # Celery would retry an unreachable broker for a long while: ask Redis first.
    problem = _ping_redis(broker, timeout)
    if problem:
        return Check("workers", "FAIL", f"broker {shown(broker)} unreachable: {problem}")
    from flask import Flask

    from app.jobs.executors import celery_init_app

    holder = Flask("app")
    holder.config.update(config)
    celery = celery_init_app(holder)
    try:
        answers = celery.control.inspect(timeout=timeout).active_queues() or {}
    except Exception as exc:
        return Check("workers", "FAIL", f"{type(exc).__name__}: {exc}")
    finally:
        celery.close()
    ours = sorted(w for w, queues in answers.items() if any(q["name"] == queue for q in queues))
    if ours:
        return Check("workers", "OK", f"{len(ours)} alive on queue {queue}: {', '.join(ours)}")
    heard = (
        f"{len(answers)} worker(s) answered, none on queue {queue}"
        if answers
        else (f"no worker answered within {timeout:g} s")
    )
    return Check("workers", "FAIL", heard, f"start one: make worker (PD_QUEUE={queue})")


def check_disk(config: Mapping, min_free_gib: float) -> Check:
    folder = Path(config["PD_DATA_DIR"]).resolve()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    free = f"{usage.free / GIB:.1f} GiB free of {usage.total / GIB:.1f} GiB in {folder}"
    if usage.free < min_free_gib * GIB:
        return Check(
            "disk",
            "WARN",
            f"{free}, under {min_free_gib:g} GiB",
            "an import needs room for two generations and its staging files",
        )
    return Check("disk", "OK", free)


def run_checks(
    environ: Mapping = os.environ,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    min_free_gib: float = DEFAULT_MIN_FREE_GIB,
) -> list[Check]:
    """Every check, in order; a configuration that cannot be read stops there."""
    try:
        config = from_environment(environ)
    except ValueError as exc:
        return [Check("configuration", "FAIL", f"a setting is not a number: {exc}")]
    checks = [Check("configuration", "OK", "every setting read")]
    checks.append(check_keys(config))
    checks.append(check_data_dir(config))
    checks.append(check_engine(config, timeout))
    checks.append(check_redis(config, timeout))
    checks.append(check_workers(config, timeout))
    checks.append(check_disk(config, min_free_gib))
    return checks
