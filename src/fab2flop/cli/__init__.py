"""The ``fab2flop`` command line. Front end only: no model logic lives here."""

from __future__ import annotations

from .app import app, main

__all__ = ["app", "main"]
