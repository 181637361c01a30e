"""How sure a benchmark row is: distribution-free bounds from its repetitions.

A row's value is a statistic of repeated measurements (``samples``): the median of interleaved
ratios, or a high percentile of onsets. On a noisy 2-core machine one run proves little, so a
row ``holds`` only when the goal holds for a *bound* of that statistic at CONFIDENCE, not for
the point value:

- **median** (ratios, times): the sign test. With sorted samples ``x(1) <= ... <= x(n)``, the
  true median lies below ``x(k)`` only if at most ``k - 1`` samples fell below it: probability
  ``P(Binomial(n, 1/2) <= k - 1)``. The lower bound is the largest ``x(k)`` whose risk is at
  most ``1 - CONFIDENCE``; the upper bound mirrors it (``x(n - k + 1)``). It needs
  ``0.5**n <= 1 - CONFIDENCE``: at least 4 samples at 90 % (then 93.75 %).
- **a quantile q** (e.g. the p95 of onsets, an upper bound is what a ``<=`` goal needs): the
  smallest ``x(m)`` with ``P(Binomial(n, q) <= m - 1) >= CONFIDENCE``; at q = 0.95 and 90 %
  that needs at least 45 samples (then the bound is the largest one).

Neither assumes a distribution (the samples need only be independent and alike), which is
the point: the machine's noise has bursts and drifts that no normal model describes
(docs/benchmarks.md, "Each row says how sure it is"). Plain Python, unit-tested in
tests/unit/bench/test_confidence.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

CONFIDENCE = 0.90
"""The confidence at which every row states its bound and judges its goal."""


def binomial_cdf(k: int, n: int, p: float) -> float:
    """``P(Binomial(n, p) <= k)``: 0 for k < 0, 1 for k >= n."""
    if k < 0:
        return 0.0
    return min(1.0, sum(comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(min(k, n) + 1)))


def median_bound(samples: list[float], side: str, confidence: float = CONFIDENCE) -> tuple[float | None, float]:
    """A one-sided bound of the median of ``samples``: ``side`` ``"lower"`` (for a ``>=``
    goal) or ``"upper"`` (for ``<=``). Returns ``(bound, achieved confidence)``; the bound is
    None (confidence 0) when there are too few samples for ``confidence``.

    Raises:
        ValueError: an unknown ``side``.
    """
    if side not in ("lower", "upper"):
        raise ValueError(f"side must be 'lower' or 'upper', not {side!r}")
    xs, n = sorted(samples), len(samples)
    best: tuple[float | None, float] = (None, 0.0)
    for k in range(1, n // 2 + 1):  # x(k) as the lower bound (x(n-k+1) as the upper)
        risk = binomial_cdf(k - 1, n, 0.5)
        if risk > 1 - confidence:
            break
        best = (xs[k - 1] if side == "lower" else xs[n - k], 1 - risk)
    return best


def quantile_upper_bound(samples: list[float], q: float, confidence: float = CONFIDENCE) -> tuple[float | None, float]:
    """An upper bound of the ``q`` quantile (0 < q < 1) of ``samples``: ``(bound, achieved
    confidence)``, or ``(None, 0.0)`` when even the largest sample is not a bound at
    ``confidence`` (too few samples).

    Raises:
        ValueError: ``q`` outside (0, 1).
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), not {q}")
    xs, n = sorted(samples), len(samples)
    for m in range(1, n + 1):
        achieved = binomial_cdf(m - 1, n, q)
        if achieved >= confidence:
            return xs[m - 1], achieved
    return None, 0.0


@dataclass(frozen=True)
class Sureness:
    """What a row says about how sure it is: ``spread`` ``[min, max]`` of its ``n`` samples,
    ``bound`` (the statistic's one-sided bound on the goal's side, None with too few samples)
    at ``confidence`` (achieved, >= CONFIDENCE when there is a bound), and ``statistic``
    (``median`` or ``p95`` ...)."""

    statistic: str
    n: int
    spread: tuple[float, float] | None
    bound: float | None
    confidence: float

    def as_dict(self) -> dict:
        """For results.json."""
        return {"statistic": self.statistic, "n": self.n, "spread": list(self.spread) if self.spread else None,
                "bound": self.bound, "confidence": round(self.confidence, 4)}


def sureness(samples: list[float], statistic: str, op: str) -> Sureness:
    """The :class:`Sureness` of a row whose value is ``statistic`` (``median`` or ``pNN``) of
    ``samples`` and whose goal is ``value op goal`` (``>=`` needs a lower bound, ``<=`` an upper).

    Raises:
        ValueError: an unknown statistic, or a percentile other than an upper bound for ``<=``.
    """
    clean = [float(s) for s in samples if s is not None]
    spread = (min(clean), max(clean)) if clean else None
    if statistic == "median":
        bound, achieved = median_bound(clean, "lower" if op == ">=" else "upper")
    elif statistic.startswith("p") and op == "<=":
        bound, achieved = quantile_upper_bound(clean, float(statistic[1:]) / 100)
    else:
        raise ValueError(f"no bound for statistic {statistic!r} with a {op!r} goal")
    return Sureness(statistic, len(clean), spread, None if bound is None else round(bound, 4), achieved)
