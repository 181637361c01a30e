"""``harness sweep`` on real Docker, Toxiproxy and Locust: a search for the latency at which the
naive shop's "product p99 bounded" breaks, checked against a grid 10 % either side of it, all on
one shared stack per sweep.

Effects asserted from outside: each cell's measured p99 against the latency set on the toxic
(every naive product call waits the whole latency), the bracket, the stack brought up once per
sweep (one ``stack.up`` in the cells' journals, ``stack.shared`` in the others), and nothing
labelled ``harness.run-id`` left behind.
"""

import json
import subprocess

import pytest

pytestmark = pytest.mark.integration

SCENARIO = "tests/integration/sweep_naive.yaml"
P99 = "product p99 bounded while catalog is slow"


def labelled(run_id: str) -> list[str]:
    """Containers, networks and volumes labelled with ``run_id`` (only this test's runs: other
    people's runs may come and go on the same engine meanwhile)."""
    out = []
    for kind in ("ps -aq", "network ls -q", "volume ls -q"):
        cmd = ["docker", *kind.split(), "--filter", f"label=harness.run-id={run_id}"]
        out += subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.split()
    return out


def run_ids(sweep_dir) -> list[str]:  # noqa: ANN001
    """The run id of every cell of a sweep (its journal's ``run.start``)."""
    cells = json.loads((sweep_dir / "sweep.json").read_text())["cells"]
    ids = []
    for cell in cells:
        first = (sweep_dir / cell["dir"] / "journal.jsonl").read_text().splitlines()[0]
        ids.append(json.loads(first)["run_id"])
    return ids


def journal_events(cell_dir) -> list[str]:  # noqa: ANN001
    return [json.loads(line)["event"] for line in (cell_dir / "journal.jsonl").read_text().splitlines()]


def test_search_finds_the_breaking_latency_and_a_grid_either_side_agrees(docker_engine, harness_cli, tmp_path):
    search = harness_cli("sweep", SCENARIO, "--search", "faults.0.latency_ms=800..1250", "--expectation", P99,
                         "--tolerance", "0.1", "--out", str(tmp_path / "search"), timeout=900)
    assert search.returncode == 0, search.stderr[-3000:]
    swept = json.loads((tmp_path / "search" / "sweep.json").read_text())
    result = swept["search"]
    assert swept["status"] == "measured" and result["outcome"] == "found", swept["reason"]
    holds_at, breaks_at = result["holds_at"], result["breaks_at"]
    assert 800 <= holds_at < breaks_at <= 1000  # p99 = latency + the page's own time; the bound is 1000 ms
    assert breaks_at - holds_at <= 0.1 * holds_at
    for cell in swept["cells"]:  # every measured p99 is at least the latency set on the toxic
        latency, p99 = cell["values"]["faults.0.latency_ms"], cell["expectations"][0]["observed"]
        assert latency <= p99 < latency + 200, cell
    events = [journal_events(tmp_path / "search" / c["dir"]) for c in swept["cells"]]
    assert swept["shared_stack"] and [e.count("stack.up") for e in events] == [1] + [0] * (len(events) - 1)
    assert all("stack.shared" in e for e in events[1:])
    assert (tmp_path / "search" / "sweep.html").is_file() and (tmp_path / "search" / "sweep.md").is_file()

    # A grid 10 % either side of the breaking point: what a fine grid would find lies between.
    low, high = int(breaks_at * 0.9), int(holds_at * 1.1) + 1
    grid = harness_cli("sweep", SCENARIO, "--vary", f"faults.0.latency_ms={low},{high}",
                       "--out", str(tmp_path / "grid"), timeout=600)
    cells = json.loads((tmp_path / "grid" / "sweep.json").read_text())["cells"]
    assert [c["expectations"][0]["verdict"] for c in cells] == ["held", "failed"], grid.stderr[-3000:]
    assert grid.returncode == 1 and "cell 2 of 2" in grid.stderr
    for sweep_dir, listed in ((tmp_path / "search", swept["cells"]), (tmp_path / "grid", cells)):
        for cell in listed:  # every cell's page has its plots, the last one's drawn while the shared stack went down
            assert 'src="data:image/png;base64,' in (sweep_dir / cell["dir"] / "report.html").read_text(), cell["dir"]
    ids = run_ids(tmp_path / "search") + run_ids(tmp_path / "grid")
    assert len(set(ids)) == len(swept["cells"]) + 2
    assert {run_id: left for run_id in ids if (left := labelled(run_id))} == {}
