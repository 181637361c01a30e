"""harness.faults.replica.ReplicaFault: the revert that kill, stop and restart share starts each
victim that is down, forgets a victim once handled, and can be called again after a failure
part-way (fakes at the edge: the run's containers)."""

from __future__ import annotations

import random

import pytest

from harness.errors import EnvironmentFailure
from harness.faults import FaultContext
from harness.faults.replica import ReplicaFault
from harness.scenario.faults.kill import KillSpec


class FakeContainers:
    """Containers ``api-1``..``api-3``; ``down`` are stopped; ``broken`` refuse to start once."""

    run_id = "r"

    def __init__(self, down: set[str], broken: set[str] = frozenset()):
        self.down, self.broken, self.starts = set(down), set(broken), []

    def start(self, name: str) -> bool:
        self.starts.append(name)
        if name in self.broken:
            self.broken.discard(name)
            raise EnvironmentFailure(f"docker: start {name} failed")
        if name not in self.down:
            return False
        self.down.discard(name)
        return True


class DownFault(ReplicaFault):
    """Takes its victims down by hand (the kinds differ only in how they do it)."""

    spec_type = KillSpec

    def inject(self) -> list[str]:
        self.victims += ["api-1", "api-2", "api-3"]
        return list(self.victims)


def fault(containers: FakeContainers) -> DownFault:
    spec = KillSpec(name="k", service="api", at_s=0, duration_s=1)
    return DownFault(spec, FaultContext(toxiproxy=None, containers=containers, rng=random.Random(1)))  # type: ignore[arg-type]


def test_revert_starts_the_victims_that_are_down_then_touches_nothing():
    containers = FakeContainers(down={"api-1", "api-3"})
    f = fault(containers)
    f.inject()
    assert f.revert() == ["api-1", "api-3"]
    assert f.revert() == [] and containers.starts == ["api-1", "api-2", "api-3"]  # no engine call the second time


def test_a_revert_that_failed_part_way_is_finished_by_calling_it_again():
    containers = FakeContainers(down={"api-1", "api-2", "api-3"}, broken={"api-2"})
    f = fault(containers)
    f.inject()
    with pytest.raises(EnvironmentFailure):
        f.revert()
    assert f.revert() == ["api-2", "api-3"]
    assert containers.starts == ["api-1", "api-2", "api-2", "api-3"] and containers.down == set()
