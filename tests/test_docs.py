"""The README stays true: every command and every configuration key is documented."""

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

from styrhjul.cli.main import cli
from styrhjul.config import _FileModel

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "styrhjul") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_every_command_is_in_the_readme():
    missing = [c for c in _commands(cli) if c not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_config_key_is_in_the_readme():
    missing = [k for k in _keys(_FileModel) if f"`{k}`" not in README]
    assert not missing, f"config keys missing from README.md: {missing}"


def _dotted(table: dict[str, Any], prefix: str = "") -> list[str]:
    """Every key of a parsed TOML document as a dotted path: ``mail.smtp.port``."""
    paths = []
    for key, value in table.items():
        if isinstance(value, dict):
            paths.extend(_dotted(value, f"{prefix}{key}."))
        else:
            paths.append(f"{prefix}{key}")
    return paths


def test_the_shipped_config_uses_only_documented_keys():
    with (ROOT / "config.toml").open("rb") as shipped:
        keys = _dotted(tomllib.load(shipped))
    assert "mail.smtp.port" in keys  # nested tables are flattened, not skipped
    missing = [k for k in keys if f"`{k}`" not in README]
    assert not missing, f"keys of config.toml missing from README.md: {missing}"


def test_layer_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
