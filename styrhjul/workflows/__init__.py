"""Workflow definitions: one TOML file per workflow, loaded and checked by ``styrhjul.engine``.

An administration changes a process by editing its definition, not code. Every name a
definition uses (state, guard, role) is checked when it is loaded.
"""

from __future__ import annotations

from pathlib import Path

DEFINITIONS = Path(__file__).parent


def definition_path(name: str) -> Path:
    """The shipped definition file of the workflow called ``name``."""
    return DEFINITIONS / f"{name}.toml"


def definition_paths(folder: Path | None = None) -> list[Path]:
    """Every definition file in ``folder`` (the shipped ones by default), sorted by name."""
    return sorted((folder or DEFINITIONS).glob("*.toml"))
