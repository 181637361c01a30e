"""``harness cleanup``: undo what runs left behind, from their ledgers and by label."""

from __future__ import annotations

from harness.environment.ledger import forget, known_runs, replay
from harness.environment.stack import RUN_LABEL, docker_client, sweep


def labelled_run_ids() -> set[str]:
    """Run ids carried by any container, network or volume on this engine."""
    client = docker_client()
    ids: set[str] = set()
    for objects in (client.containers.list(all=True, filters={"label": RUN_LABEL}),
                    client.networks.list(filters={"label": RUN_LABEL}),
                    client.volumes.list(filters={"label": RUN_LABEL})):
        for obj in objects:
            labels = getattr(obj, "labels", None) or obj.attrs.get("Labels") or {}
            if labels.get(RUN_LABEL):
                ids.add(labels[RUN_LABEL])
    return ids


def cleanup(run_id: str | None = None) -> list[str]:
    """Replay the ledger of one run (``run_id``) or of every known and every labelled run
    (None), then remove every Docker object labelled with those runs. Idempotent.

    Returns one line per thing removed or stopped (empty when there was nothing to do).

    Raises:
        EnvironmentFailure: the Docker engine does not answer.
    """
    runs = known_runs()
    targets = {run_id} if run_id else set(runs) | labelled_run_ids()
    done: list[str] = []
    for rid in sorted(targets):
        run_dir = runs.get(rid)
        if run_dir is not None and run_dir.exists():
            done += [f"{rid}: undid {u.what}" for u in replay(run_dir) if u.changed]
    client = docker_client()
    if run_id:
        done += [f"{run_id}: removed {obj}" for obj in sweep(client, run_id)]
    else:
        done += [f"removed {obj}" for obj in sweep(client, None)]
    forget(targets)
    return done
