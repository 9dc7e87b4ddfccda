"""The model and scores the service serves, and their switch without downtime.

:class:`ModelHolder` keeps one immutable :class:`ServingState` (champion model
version, loaded model, its metrics and its latest finished scoring run). A
background thread polls the registry's ``champion`` alias and the store's
scoring runs; when either moves, it loads the new state completely and then
replaces the single reference. Rebinding one attribute is atomic in CPython,
so a request that took the old state at its start finishes on it, and the
next request sees the new one.

A new champion without a finished scoring run is not switched to while the
current state has scores: the service keeps serving the old version
(and logs why) until ``injury-risk score`` has scored the new one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from risk.store.scores import RunSnapshot, ScoringRunInfo, latest_scoring_run, load_run_snapshot

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    """A registered model version loaded into memory, with its recorded metrics."""

    version: str
    model: Any
    metrics: dict[str, float] = field(default_factory=dict)
    mlflow_run_id: str | None = None


class ChampionSource(Protocol):
    """Source of the champion model: the MLflow registry in production."""

    def champion_version(self) -> str | None:
        """Return the version the ``champion`` alias points to, or None if unset."""

    def load(self, version: str) -> LoadedModel:
        """Load ``version`` completely (booster, calibrator, categories)."""


@dataclass(frozen=True)
class ServingState:
    """Everything one request reads: never changed after creation, only replaced."""

    model_name: str
    model: LoadedModel
    run: ScoringRunInfo | None
    loaded_at: dt.datetime
    # Champion version found in the registry when it differs from ``model``, else None.
    pending_version: str | None = None
    # The run's scores and explanations in memory, or None to read them from the store.
    snapshot: RunSnapshot | None = None

    @property
    def model_version(self) -> str:
        """Version of the model whose scores are served."""
        return self.model.version


class ModelHolder:
    """Hold the current :class:`ServingState` and refresh it from a background thread.

    Parameters
    ----------
    engine : Engine
        The store with the scoring runs.
    source : ChampionSource
        The registry to poll.
    model_name : str
        Registered model name whose scoring runs are served.
    poll_seconds : float, default=10.0
        Interval between two polls of the registry and the store.
    keep_runs_in_memory : bool, default=False
        Load each served run's scores and explanations into a :class:`RunSnapshot`
        before switching to it, so that single-employer reads need no store round trip.
    """

    def __init__(
        self,
        engine: Engine,
        source: ChampionSource,
        model_name: str,
        poll_seconds: float = 10.0,
        *,
        keep_runs_in_memory: bool = False,
    ) -> None:
        self.engine = engine
        self.source = source
        self.model_name = model_name
        self.poll_seconds = poll_seconds
        self.keep_runs_in_memory = keep_runs_in_memory
        self._state: ServingState | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()
        self._last_error: str | None = None

    @property
    def current(self) -> ServingState | None:
        """The state requests read. Take it once per request and keep using that object."""
        return self._state

    @property
    def last_error(self) -> str | None:
        """Message of the last failed refresh, or None after a successful one."""
        return self._last_error

    def refresh(self) -> bool:
        """Poll the registry and the store once; return True when the state was replaced."""
        with self._refresh_lock:
            try:
                swapped = self._refresh()
            except Exception as exc:  # the watcher must outlive registry and store outages
                self._last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("Refreshing the served model failed; keeping the current one")
                return False
            self._last_error = None
            return swapped

    def _refresh(self) -> bool:
        current = self._state
        version = self.source.champion_version()
        if version is None:
            logger.warning("Model %s has no champion alias; nothing to serve", self.model_name)
            return False
        if current is not None and current.model_version != version:
            return self._switch_version(current, version)
        run = latest_scoring_run(self.engine, self.model_name, version)
        unchanged = current is not None and _run_id(current.run) == _run_id(run)
        if unchanged and current is not None and current.pending_version is None:
            return False
        model = current.model if current is not None else self.source.load(version)
        self._install(self._new_state(model, run))
        return True

    def _switch_version(self, current: ServingState, version: str) -> bool:
        run = latest_scoring_run(self.engine, self.model_name, version)
        if run is None and current.run is not None:
            if current.pending_version != version:
                logger.warning(
                    "Champion moved to version %s, which has no finished scoring run; serving"
                    " version %s until `injury-risk score` scores it",
                    version,
                    current.model_version,
                )
                self._state = dataclasses.replace(current, pending_version=version)
            return False
        model = self.source.load(version)
        self._install(self._new_state(model, run))
        return True

    def _new_state(self, model: LoadedModel, run: ScoringRunInfo | None) -> ServingState:
        return ServingState(self.model_name, model, run, _now(), snapshot=self._snapshot(run))

    def _snapshot(self, run: ScoringRunInfo | None) -> RunSnapshot | None:
        # Loaded on the refresh thread before the switch, so no request waits for it.
        if run is None or not self.keep_runs_in_memory:
            return None
        current_snapshot = None if self._state is None else self._state.snapshot
        if current_snapshot is not None and current_snapshot.run_id == run.run_id:
            return current_snapshot
        try:
            return load_run_snapshot(self.engine, run)
        except Exception:  # out of memory or a store error: the run is then read from the store
            logger.exception(
                "Loading scoring run %d into memory failed, so its reads go to the store",
                run.run_id,
            )
            return None

    def _install(self, state: ServingState) -> None:
        previous = self._state
        # The one assignment that switches every later request to the new state.
        self._state = state
        logger.info(
            "Serving model %s version %s, as_of %s (was version %s)",
            state.model_name,
            state.model_version,
            None if state.run is None else state.run.as_of,
            None if previous is None else previous.model_version,
        )

    def start(self) -> None:
        """Load the first state now, then poll from a daemon thread."""
        self.refresh()
        self._thread = threading.Thread(target=self._watch, name="champion-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the polling thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()


def _run_id(run: ScoringRunInfo | None) -> int | None:
    return None if run is None else run.run_id


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
