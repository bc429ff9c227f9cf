"""``fab2flop serve``: the HTTP API and the playground (docs/web.md)."""

from __future__ import annotations

import ipaddress

import typer

from .common import err_console


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: str = typer.Option("127.0.0.1", help="address to bind (loopback by default)"),
    port: int = typer.Option(8000, min=0, max=65535, help="TCP port"),
    no_store: bool = typer.Option(
        False, "--no-store", help="keep runs in memory only (not in the run store)"
    ),
) -> None:
    """Serve the HTTP API (/v1/..., OpenAPI at /docs) and the playground at /.

    Example: fab2flop serve --port 8000   then open http://127.0.0.1:8000/
    """
    import uvicorn

    from ..web.app import create_app

    if not is_loopback(host):
        err_console.print(
            f"[bold yellow]warning:[/] binding to {host}: anyone who can reach this address "
            "can start solves and read the runs in the store (there is no authentication)."
        )
    store = None
    if no_store:
        from ..web.memstore import InMemoryRunStore

        store = InMemoryRunStore()
    uvicorn.run(create_app(store), host=host, port=port, log_level="info")
