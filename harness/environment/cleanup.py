"""``harness cleanup``: undo what runs left behind, from their ledgers and by label."""

from __future__ import annotations

from pathlib import Path

from harness.environment.containers import docker_client
from harness.environment.labels import RUN_LABEL
from harness.environment.ledger import Damage, forget, read_index, replay
from harness.environment.stack import sweep


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


class Cleaned(list):
    """What :func:`cleanup` did: one line per thing removed or stopped (a list of str), plus
    ``damaged``: the :class:`~harness.environment.ledger.Damage` of every ledger (and of the
    run index) that had lines it could not read, whose mutations may still be in place."""

    def __init__(self, done: list[str], damaged: list[Damage]):
        super().__init__(done)
        self.damaged = damaged


def cleanup(run_id: str | None = None) -> Cleaned:
    """Replay the ledger of one run (``run_id``) or of every known and every labelled run
    (None), then remove every Docker object labelled with those runs. Idempotent.

    A damaged ledger or index does not stop it: every entry that can be read is replayed and
    the label sweep runs; the damage is in the result's ``damaged``, and a run whose ledger is
    damaged stays in the index (so ``--run-id`` finds its ledger again once it is repaired).

    Returns:
        One line per thing removed or stopped (empty when there was nothing to do), and the
        damaged files.

    Raises:
        EnvironmentFailure: the Docker engine does not answer.
    """
    runs, index_damage = read_index()
    damaged = [index_damage] if index_damage else []
    targets = {run_id} if run_id else set(runs) | labelled_run_ids()
    done: list[str] = []
    kept: set[str] = set()
    for rid in sorted(targets):
        run_dir = runs.get(rid)
        if run_dir is not None and _is_dir(run_dir):
            undone = replay(run_dir)
            done += [f"{rid}: undid {u.what}" for u in undone if u.changed]
            if undone.damage:
                damaged.append(undone.damage)
                kept.add(rid)
    client = docker_client()
    if run_id:
        done += [f"{run_id}: removed {obj}" for obj in sweep(client, run_id)]
    else:
        done += [f"removed {obj}" for obj in sweep(client, None)]
    forget(targets - kept)
    return Cleaned(done, damaged)


def _is_dir(path: Path) -> bool:
    """``path.is_dir()``, False when it cannot even be looked at (no permission, a NUL byte)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
