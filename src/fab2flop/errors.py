"""Domain exceptions. Each message says what was wrong and what was expected."""

from __future__ import annotations


class Fab2FlopError(Exception):
    """Base class of the package's errors."""


class CatalogError(Fab2FlopError, KeyError):
    """A catalog record is missing or malformed."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ScenarioError(Fab2FlopError, ValueError):
    """A scenario file or override is invalid. Carries a list of (path, value, expected)."""

    def __init__(self, message: str, problems: list[tuple[str, object, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


class DesignError(Fab2FlopError, ValueError):
    """An accelerator design is not physically possible (e.g. a die above the reticle)."""


class NetworkError(Fab2FlopError, ValueError):
    """The supply-chain network built from a scenario is inconsistent."""


class OutputError(Fab2FlopError, ValueError):
    """An output folder cannot be written (exists, not empty, locked, not writable) or a
    saved run cannot be read back."""
