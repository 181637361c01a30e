"""The prepare phase: preflight, the run's id, seed and directory, its journal and cleanup ledger,
and ``run.start``. Nothing is started yet; what fails here fails before any container exists."""

from __future__ import annotations

import platform
import random
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness import __version__
from harness.environment.fingerprint import run_fingerprint
from harness.environment.stack import project_name
from harness.environment.ledger import Ledger
from harness.errors import OutputDirError
from harness.journal import Journal
from harness.redact import Redactor
from harness.run.preflight import check_services
from harness.scenario import LoadedScenario
from harness.scenario.models import Scenario

DEFAULT_REPORTS_DIR = Path("reports")
RUN_FILES = ("journal.jsonl", "ledger.jsonl", "requests.tsv", "load.json", "locust.log", "compose.log", "compose.resolved.json",
             "report.json", "report.md", "harness.log")
"""Files a run writes into its directory; a rerun into the same ``--out`` replaces them."""


@dataclass(frozen=True)
class Prepared:
    """A run about to start: its scenario, ``seed``, ``run_id`` and ``run_dir`` (absolute), the
    ``redact`` of its secrets, its open ``journal`` and ``ledger``, ``started_t`` (epoch s of
    ``run.start``) and ``compose_config`` (the resolved compose project of the preflight)."""

    loaded: LoadedScenario
    seed: int
    run_id: str
    run_dir: Path
    redact: Redactor
    journal: Journal
    ledger: Ledger
    started_t: float
    compose_config: dict

    @property
    def scenario(self) -> Scenario:
        """The validated scenario."""
        return self.loaded.scenario


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: ``YYYYmmddTHHMMSSZ-<6 hex>`` (UTC), in lower case (it names a
    compose project, whose name must be lower case)."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}".lower()


def prepare_run_dir(run_dir: Path) -> None:
    """Create ``run_dir``, prove it writable (a probe file is written and removed: root passes
    every permission check, a read-only mount does not) and remove an earlier run's files.

    Raises:
        OutputDirError: not a directory, or not writable; nothing was started.
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=run_dir, prefix=".write-probe-"):
            pass
        for name in RUN_FILES:
            (run_dir / name).unlink(missing_ok=True)
    except OSError as exc:
        raise OutputDirError(f"{run_dir}: cannot write the run's files there ({exc.strerror or exc})") from None


def choose_seed(loaded: LoadedScenario, seed: int | None) -> int:
    """``seed``, else the scenario's, else one drawn at random (in ``[0, 2**31)``; recorded in
    ``run.start``, so the run can be reproduced)."""
    seed = seed if seed is not None else loaded.scenario.seed
    return seed if seed is not None else random.SystemRandom().randrange(2**31)


def prepare(loaded: LoadedScenario, out_dir: Path | None = None, seed: int | None = None,
            compose_config: dict | None = None) -> Prepared:
    """Preflight (:func:`~harness.run.preflight.check_services`; of ``compose_config`` when
    given: a shared stack's), then the run's id, seed and directory (``out_dir``, default
    ``reports/<run id>``), its journal and ledger, and ``run.start`` (run id, seed, scenario
    and its hash, overrides, profile, environment).

    Raises:
        ScenarioError: the preflight found a problem; nothing was written.
        OutputDirError: the run directory is not writable; nothing was started.
    """
    run_id = new_run_id()
    compose_config = check_services(loaded, compose_config, project=project_name(run_id))
    scenario = loaded.scenario
    seed = choose_seed(loaded, seed)
    run_dir = (out_dir or DEFAULT_REPORTS_DIR / run_id).resolve()
    prepare_run_dir(run_dir)
    redact = Redactor(loaded.secrets)
    journal = Journal(run_dir, redact=redact)
    ledger = Ledger(run_dir, run_id)
    run_start = journal.record(
        "run.start",
        run_id=run_id,
        seed=seed,
        scenario=scenario.name,
        scenario_path=str(loaded.path),
        scenario_sha256=loaded.sha256,
        overrides=loaded.overrides,
        profile=scenario.target.profile,
        environment={"harness": __version__, "python": platform.python_version(), "platform": platform.platform(),
                     **run_fingerprint(scenario)},
    )
    return Prepared(loaded, seed, run_id, run_dir, redact, journal, ledger, run_start.t, compose_config)
