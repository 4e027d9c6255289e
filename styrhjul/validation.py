"""Strict loading of TOML input files (config, workflow definitions, organisation data).

One path for every file a person edits: read, parse with ``tomllib``, validate with a
pydantic model that forbids unknown keys, and turn every problem into an
:class:`~styrhjul.errors.InputError` subclass that names the file, the line and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from styrhjul.errors import InputError
from styrhjul.tomlpos import PathPart, dotted, line_of

M = TypeVar("M", bound=BaseModel)

EMAIL_PATTERN = r"^[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;]+$"
"""An e-mail address as input files may give it: no spaces, nothing a mail header would misread."""


class StrictModel(BaseModel):
    """Base for every model of an input file: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


@dataclass(frozen=True)
class Source:
    """The text of an input file and where it came from, to locate later errors."""

    path: Path
    text: str

    def error(
        self, error_cls: type[InputError], key: Sequence[PathPart], message: str
    ) -> InputError:
        """An error of ``error_cls`` at ``key`` (a path such as ``("transition", 2, "dest")``)."""
        return error_cls(message, file=self.path, line=line_of(self.text, key), key=dotted(key))


def read_toml(
    path: Path, error_cls: type[InputError], *, text: str | None = None
) -> tuple[Source, dict[str, Any]]:
    """Read and parse ``path`` (or ``text`` as if read from it); bad TOML raises ``error_cls``."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise error_cls("file not found", file=path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise error_cls(f"cannot read file: {exc}", file=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"at line (\d+)", str(exc))  # Python 3.11 has no exc.lineno
        line = int(where.group(1)) if where else None
        raise error_cls(f"not valid TOML: {exc}", file=path, line=line) from None
    return Source(path, text), data


def validate(
    source: Source, data: Mapping[str, Any], model: type[M], error_cls: type[InputError]
) -> M:
    """Validate ``data`` against ``model``; every problem is reported with its line and key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise located_validation_error(exc, source, model, error_cls) from None


def located_validation_error(
    exc: ValidationError, source: Source, model: type[BaseModel], error_cls: type[InputError]
) -> InputError:
    """One error naming the first problem's line and key, with the others listed below it."""
    problems: list[tuple[int | None, str, str]] = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if isinstance(p, str | int))
        problems.append((line_of(source.text, loc), dotted(loc), _explain(error, loc, model)))
    first_line, first_key, message = problems[0]
    for line, key, what in problems[1:]:
        where = f"{source.path}:{line}" if line else str(source.path)
        message += f"\n{where}: {key}: {what}"
    return error_cls(message, file=source.path, line=first_line, key=first_key)


def _explain(error: Mapping[str, Any], loc: tuple[PathPart, ...], model: type[BaseModel]) -> str:
    if error["type"] == "extra_forbidden":
        section = _model_at(model, loc[:-1])
        allowed = ", ".join(section.model_fields) if section else ""
        return f"unknown key; allowed here: {allowed}" if allowed else "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{message} (got {error.get('input')!r})"


def _model_at(model: type[BaseModel], loc: tuple[PathPart, ...]) -> type[BaseModel] | None:
    """The model that describes the table at ``loc`` (list indexes are stepped over)."""
    current: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        found = _model_in(field.annotation)
        if found is None:
            return None
        current = found
    return current


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
