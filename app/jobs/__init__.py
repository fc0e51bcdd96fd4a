"""Background jobs, imports and assignments: what was asked (request), where jobs are kept
(store), one import at a time (lock), the runners every door calls (runner), where jobs run — a
thread or Celery (executors) — and the Celery tasks (tasks)."""
