"""``fab2flop report``: the self-contained HTML report of a saved run."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import console, handle_errors


@handle_errors
def report(
    run_dir: Path = typer.Argument(..., help="folder written by `fab2flop run --out DIR`"),
    output: Path = typer.Option(Path("report.html"), "-o", "--output", help="HTML file to write"),
    images: Path | None = typer.Option(
        None, "--images", help="also write each chart as an image into this folder (kaleido)"
    ),
    image_format: str = typer.Option("png", "--image-format", help="png | svg"),
) -> None:
    """Write one HTML file that opens offline: compute, spend, the money Sankey, what binds,
    capacity, regional shares, key metrics, the scenario and the catalog sources.

    Examples:

      fab2flop run --out runs/mine && fab2flop report runs/mine -o mine.html
    """
    from ..errors import Fab2FlopError
    from ..results import Results

    if not (run_dir / "metadata.json").is_file():
        raise Fab2FlopError(
            f"{run_dir} is not a saved run (no metadata.json); write one with "
            "`fab2flop run --out DIR`"
        )
    write_run_report(Results.load(run_dir), output, images, image_format)


def write_run_report(
    res, output: Path, images: Path | None = None, fmt: str = "png", out_console=console
) -> None:
    """Write the report (and images) of ``res``; shared with ``fab2flop run --report``."""
    from ..report import export_images, write_report

    path = write_report(res, output)
    out_console.print(f"wrote report {path}", highlight=False)
    if images is not None:
        files = export_images(res, images, fmt)
        out_console.print(f"wrote {len(files)} images to {images}/", highlight=False)
