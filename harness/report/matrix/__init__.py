"""The resiliency matrix's report: ``matrix.json`` (:mod:`~harness.report.matrix.model`), its
cells from reports (:mod:`~harness.report.matrix.cells`) and its renderings
(:mod:`~harness.report.matrix.render`). ``harness matrix`` (:mod:`harness.matrix`) collects the
reports and runs what is missing."""

from harness.report.matrix.cells import CellPlace, assemble, blank_cell, describe_age, key_result, report_cell
from harness.report.matrix.model import MATRIX_SCHEMA_VERSION, Matrix, MatrixCell, decide_matrix_status
from harness.report.matrix.render import key_number, render_matrix_html, render_matrix_md, write_matrix

__all__ = ["MATRIX_SCHEMA_VERSION", "CellPlace", "Matrix", "MatrixCell", "assemble", "blank_cell",
           "decide_matrix_status", "describe_age", "key_number", "key_result", "render_matrix_html",
           "render_matrix_md", "report_cell", "write_matrix"]
