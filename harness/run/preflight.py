"""Before anything starts: the preflight of a run (:func:`check_services`) and ``harness run
--dry-run`` (:func:`dry_run`). Neither needs a Docker engine, only ``docker compose config``."""

from __future__ import annotations

import json
from pathlib import Path

from harness.environment.engine import resolve_engine
from harness.environment.own_stack import load_target, stack_problems
from harness.environment.project import edges_of, make_copy
from harness.environment.stack import copy_options, resolve_compose
from harness.errors import EnvironmentFailure, ScenarioError
from harness.faults.host_needs import host_problems
from harness.redact import Redactor
from harness.scenario import LoadedScenario
from harness.scenario.models import Scenario

DRY_RUN_PROJECT = "harness-dry-run"
"""The compose project name a dry run shows (a real run's is ``harness-<run id>``)."""


def check_services(loaded: LoadedScenario, config: dict | None = None, project: str = "harness-preflight") -> dict:
    """Preflight, before anything is started: the compose file resolves, every service a fault
    names exists in it, the stack is fit for the run (own_stack.py: no ``container_name``,
    edges that can be inserted, a load host that can be published), and this host gives what
    the faults need (faults/host_needs.py: root, a local engine, cgroup v1, nsenter...).

    ``config``: the project already resolved for this target (a shared stack's: the runs that
    share a stack have the same target, :func:`harness.sweep.grid.can_share_stack`), checked
    instead of resolving the file again. ``project``: the compose project name it is resolved
    under (a run's own, ``harness-<run id>``, so that its stack can bring up this very config
    instead of resolving the file a second time, :class:`harness.environment.Stack`).

    Returns:
        The resolved compose config (``compose config --format json``).

    Raises:
        ScenarioError: one ``file:line:col`` line per problem (exit 2).
    """
    target = loaded.scenario.target
    try:
        config = config if config is not None else resolve_compose(target, loaded.scenario.base_dir, project)
    except EnvironmentFailure as exc:
        raise ScenarioError([loaded.problem("target.compose", str(exc))]) from None
    problems = _fault_reference_problems(loaded, set(config.get("services") or {}))
    problems += [loaded.problem(field, message) for field, message in stack_problems(config, loaded.scenario)]
    problems += [loaded.problem(f"faults.{i}.kind", message) for i, message in host_problems(loaded.scenario.faults)]
    if problems:
        raise ScenarioError(problems)
    return config


def _fault_reference_problems(loaded: LoadedScenario, services: set[str]) -> list[str]:
    """One problem per service a fault names that the compose project lacks, or that is the
    harness's own Toxiproxy (unless ``target.allow_toxiproxy_faults``)."""
    problems = []
    for i, fault in enumerate(loaded.scenario.faults):
        for ref in fault.service_refs():
            message = service_ref_problem(loaded.scenario, ref, services)
            if message is None:
                continue
            if message.startswith("no service"):
                field = next((k for k, v in fault.model_dump().items() if v == ref or (isinstance(v, list) and ref in v)),
                             "service")
                problems.append(loaded.problem(f"faults.{i}.{field}", message))
            else:
                problems.append(loaded.problem(f"faults.{i}", message))
    return problems


def service_ref_problem(scenario: Scenario, ref: str, services: set[str]) -> str | None:
    """Why a fault of ``scenario`` may not name the service ``ref`` (one line), or None when it
    may: ``services`` are the compose project's; the harness's own Toxiproxy is off limits
    unless ``target.allow_toxiproxy_faults`` (the inserted one of an own stack counts as a
    service)."""
    target = scenario.target
    inserted = any(p.is_edge for p in scenario.proxies)
    if ref == target.toxiproxy_service and not target.allow_toxiproxy_faults:
        return f"{ref!r} is the harness's Toxiproxy; faults may not target it unless target.allow_toxiproxy_faults is true"
    if ref not in services and not (inserted and ref == target.toxiproxy_service):
        return f"no service {ref!r} in the compose file (services: {', '.join(sorted(services))})"
    return None


def dry_run(loaded: LoadedScenario) -> str:
    """The compose project a run of ``loaded`` would bring up (YAML, secrets masked), after the
    same preflight as a run, followed by the inserted Toxiproxy's proxy list as a YAML comment
    when the scenario has edges; starts nothing and needs no Docker engine (only ``docker
    compose config``). With a remote engine the text starts with a ``# note:`` line saying
    where the ports are bound (engine.py).

    Raises:
        ScenarioError: the preflight found a problem (exit 2).
        EngineConfigError: ``DOCKER_HOST`` or the docker context is unusable (exit 2).
    """
    import yaml

    check_services(loaded)
    scenario = loaded.scenario
    config = resolve_compose(scenario.target, scenario.base_dir, DRY_RUN_PROJECT)
    engine = resolve_engine()
    options = copy_options(scenario.target, DRY_RUN_PROJECT, "dry-run", edges_of(scenario.proxies),
                           load_target(scenario.load.host, config.get("services") or {}),
                           Path("reports", "dry-run", "toxiproxy-edges.json").resolve(), engine)
    copy, plan = make_copy(config, options)
    text = yaml.safe_dump(copy, sort_keys=False, default_flow_style=False, width=120)
    if engine.exposure_note():
        text = f"# note: {engine.exposure_note()}\n" + text
    if plan is not None:
        text += "# toxiproxy-edges.json (the inserted Toxiproxy's -config):\n"
        text += "".join(f"#   {json.dumps(p)}\n" for p in plan.proxies)
    return Redactor(loaded.secrets)(text)
