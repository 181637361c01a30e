"""``harness matrix SCENARIO_DIR``: the resiliency matrix (dependency x failure mode) of a
directory of tagged scenarios, from their newest reports, running what has none.

:mod:`~harness.matrix.scenarios` finds the tagged scenarios (and reads ``--max-age``),
:mod:`~harness.matrix.reports` finds their reports, :mod:`~harness.matrix.collect` runs what is
missing and makes the cells; the model and its renderings are :mod:`harness.report.matrix`.
"""

from harness.matrix.collect import DEFAULT_MAX_AGE_S, MatrixSettings, RunPolicy, collect_matrix, default_out_dir
from harness.matrix.reports import ReportIndex, index_reports, newest_report
from harness.matrix.scenarios import MatrixUsageError, Tagged, parse_age, tagged_scenarios

__all__ = ["DEFAULT_MAX_AGE_S", "MatrixSettings", "MatrixUsageError", "ReportIndex", "RunPolicy", "Tagged",
           "collect_matrix", "default_out_dir", "index_reports", "newest_report", "parse_age", "tagged_scenarios"]
