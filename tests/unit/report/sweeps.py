"""Synthetic sweeps for the sweep report and sweep compare tests, built with the pydantic model of
``sweep.json``: a 1-parameter grid, a 2-parameter grid, a search, a 3-parameter grid."""

from __future__ import annotations

from harness.report.sweep import CellExpectation, SearchResult, Sweep, SweepCell, Varied

P99 = "p99 bounded during catalog-slow"
ERRORS = "few errors during catalog-slow"
LATENCY = "faults.0.latency_ms"
USERS = "load.users"


def verdict_of(observed: float | None, threshold: float, inconclusive: bool = False) -> str:
    if inconclusive or observed is None:
        return "inconclusive"
    return "held" if observed < threshold else "failed"


def exp(name: str, observed: float | None, threshold: float, metric: str = "p99_ms",
        inconclusive: bool = False) -> CellExpectation:
    return CellExpectation(name=name, metric=metric, window="fault:catalog-slow", observed=observed,
                           threshold=threshold, operator="<", verdict=verdict_of(observed, threshold, inconclusive))


def cell(index: int, values: dict, expectations: list[CellExpectation], status: str | None = None,
         error: str | None = None) -> SweepCell:
    verdicts = {e.verdict for e in expectations}
    derived = "failed" if "failed" in verdicts else ("inconclusive" if "inconclusive" in verdicts else "passed")
    return SweepCell(index=index, values=values, status=status or derived, error=error, dir=f"cell-{index:03d}",
                     run_id=f"run-{index}", duration_s=41.5, expectations=expectations)


def sweep(varied: list[Varied], cells: list[SweepCell], mode: str = "grid", search: SearchResult | None = None,
          status: str | None = None, reason: str = "") -> Sweep:
    statuses = {c.status for c in cells}
    derived = "failed" if "failed" in statuses else ("inconclusive" if "inconclusive" in statuses else "passed")
    if mode == "search":
        derived = "measured"
    return Sweep(scenario="shop", scenario_path="scenarios/shop.yaml", varied=varied, mode=mode,
                 status=status or derived, reason=reason or f"sweep {derived}",
                 started_at="2025-01-01T00:00:00.000Z", ended_at="2025-01-01T00:10:00.000Z", cells=cells,
                 search=search)


def one_param(latencies=(100, 200, 400, 800), p99=None, status=None) -> Sweep:
    """A grid over the injected latency: p99 follows it (latency + 50 ms); bound 500 ms, so it holds
    up to 400 and breaks between 400 and 800."""
    cells = []
    for i, lat in enumerate(latencies, start=1):
        observed = (p99 or {}).get(lat, lat + 50.0)
        cells.append(cell(i, {LATENCY: lat}, [exp(P99, observed, 500.0),
                                             exp(ERRORS, 0.001 * i, 0.01, metric="error_rate")]))
    return sweep([Varied(path=LATENCY, values=list(latencies))], cells, status=status)


def two_params() -> Sweep:
    """latency × users: p99 = latency + 10 × users; the cell (800, 50) was inconclusive (no
    observed value) and (400, 50) errored."""
    cells = []
    i = 0
    for users in (10, 50):
        for lat in (100, 400, 800):
            i += 1
            if (lat, users) == (800, 50):
                cells.append(cell(i, {LATENCY: lat, USERS: users}, [exp(P99, None, 500.0, inconclusive=True)]))
            elif (lat, users) == (400, 50):
                cells.append(cell(i, {LATENCY: lat, USERS: users}, [], status="error",
                                  error="the stack did not come up: catalog unhealthy"))
            else:
                cells.append(cell(i, {LATENCY: lat, USERS: users}, [exp(P99, lat + 10.0 * users, 500.0)]))
    return sweep([Varied(path=LATENCY, values=[100, 400, 800]), Varied(path=USERS, values=[10, 50])], cells)


def search(steps=((100, 150.0), (1600, 1650.0), (850, 900.0), (475, 525.0), (287.5, 337.5), (381.25, 431.25),
                  (428.125, 478.125), (451.5625, 501.5625)), holds_at=428.125, breaks_at=451.5625,
           outcome="found") -> Sweep:
    """A search of the latency for the p99 bound of 500 ms: p99 = latency + 50."""
    cells = [cell(i, {LATENCY: lat}, [exp(P99, p99, 500.0)]) for i, (lat, p99) in enumerate(steps, start=1)]
    result = SearchResult(path=LATENCY, expectation=P99, lo=100, hi=1600, tolerance=0.06, outcome=outcome,
                          holds_at=holds_at, breaks_at=breaks_at, steps=len(steps))
    return sweep([Varied(path=LATENCY, values=[100, 1600])], cells, mode="search", search=result,
                 reason=f"{P99!r} holds at {holds_at} and breaks at {breaks_at}")


def three_params() -> Sweep:
    """latency × users × a categorical mode (strings)."""
    cells = []
    i = 0
    for mode in ("retry", "no-retry"):
        for users in (10, 20):
            for lat in (100, 800):
                i += 1
                cells.append(cell(i, {LATENCY: lat, USERS: users, "faults.0.mode": mode},
                                  [exp(P99, lat + users + (0 if mode == "retry" else 100.0), 500.0)]))
    return sweep([Varied(path=LATENCY, values=[100, 800]), Varied(path=USERS, values=[10, 20]),
                  Varied(path="faults.0.mode", values=["retry", "no-retry"])], cells)
