"""The HTML report of a run: one self-contained file (Plotly's JavaScript embedded once, no
CDN) that opens offline. ``fab2flop report RUN_DIR -o report.html`` or
``fab2flop run --report report.html``.

>>> from fab2flop.results import Results
>>> from fab2flop.report import write_report
>>> write_report(Results.load("runs/mine"), "report.html")   # doctest: +SKIP
"""

from __future__ import annotations

from .render import (
    ReportError,
    RiskInputs,
    check_report_path,
    export_images,
    render_report,
    report_figures,
    write_report,
)

__all__ = [
    "ReportError",
    "RiskInputs",
    "check_report_path",
    "export_images",
    "render_report",
    "report_figures",
    "write_report",
]
