"""The live FHIR view of this app's directory: opened once per thread, reopened when a new view is
swapped in, built when none matches the live generation."""

import os
import threading
import time
from pathlib import Path

from flask import current_app

from app.engines import get_engine
from app.fhir.view import LIVE_NAME, FhirView, build_view, view_dir

# How often a process checks that the view is still of the live generation.
CHECK_SECONDS = 2.0


class LiveView:
    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.path = view_dir(data_dir) / LIVE_NAME
        self.local = threading.local()
        self.checked = 0.0
        self.lock = threading.Lock()

    def get(self, engine) -> FhirView:
        now = time.monotonic()
        if now - self.checked > CHECK_SECONDS or not self.path.exists():
            generation = engine.live_generation()
            view = self._open()
            if view is None or not view.serves(generation):
                # One build for all the processes of this machine: the others wait, then read it.
                with self.lock:
                    build_view(engine, self.data_dir, unless=lambda: self._serves(generation))
            self.checked = time.monotonic()
        view = self._open()
        if view is None:  # pragma: no cover - built just above
            raise FileNotFoundError(self.path)
        return view

    def _serves(self, generation: str) -> bool:
        view = self._open()
        return view is not None and view.serves(generation)

    def _open(self) -> FhirView | None:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            return None
        view = getattr(self.local, "view", None)
        if view is None or view.inode != inode:
            if view is not None:
                view.close()
            view = FhirView(self.path)
            self.local.view = view
        return view


def init_app(app) -> None:
    app.extensions["pd_fhir_view"] = LiveView(app.config["PD_DATA_DIR"])


def live_view() -> FhirView:
    """The view of the live directory (raises EngineUnavailable when there is none)."""
    return current_app.extensions["pd_fhir_view"].get(get_engine())


def rebuild(engine, config) -> Path:
    """Rebuild the view after the directory changed (the import runner calls this)."""
    return build_view(engine, config["PD_DATA_DIR"])
