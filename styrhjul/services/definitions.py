"""Workflow definitions as something an administration edits: check, version, compare, list.

The definitions an application runs on are the shipped ones, overlaid by those installed
in the configured folder (``[workflows] folder``): :func:`running_definitions` decides
that in one place, for ``wiring.build`` and the ``styrhjul workflows`` commands alike.

An administration changes a process by editing its definition file, so the files need a
check that reports every broken file at once (:func:`validate_paths`), and a running
instance must not change under its participants' feet: it keeps the definition version
it started with. :func:`remember_definitions` stores the text of every loaded version
the first time the application touches the database, and refuses a file whose text
changed while ``workflow.version`` stayed the same (the stored version would then no
longer describe the instances started on it). :func:`older_machine` rebuilds an older
version's machine from that stored text; ``wiring.build`` hands it to the App, whose
``machine(name, version)`` calls it. :func:`diff_against_stored`, :func:`diff_files` and
:func:`list_workflows` show what changed and which versions instances run on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from styrhjul.db.models import Instance, WorkflowSource
from styrhjul.engine.definition import WorkflowDefinition, load_definition
from styrhjul.engine.diff import Change, diff_definitions
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import ConfigError, DefinitionError, InputError, NotFound
from styrhjul.services.context import App
from styrhjul.tomlpos import line_of
from styrhjul.workflows import DEFINITIONS, definition_paths

VERSION_KEY = "workflow.version"
FOLDER_KEY = "workflows.folder"

# --- the definitions an application runs on ------------------------------------------------


def overlay(
    installed: Path | None, *, shipped: Path = DEFINITIONS
) -> tuple[list[WorkflowDefinition], list[InputError]]:
    """The definitions an application runs on, and the errors of the files that do not count.

    The ``shipped`` ones (the package's folder), each replaced by a file in ``installed``
    that defines the same workflow name with a higher ``workflow.version``, plus every
    workflow defined only in ``installed``. A lower or equal version is an error naming
    the installed file, its line and ``workflow.version``: a version never changes under
    the instances that run on it, and a package upgrade that raises the shipped version
    past an installed one must not be silently shadowed. A missing ``installed`` folder
    is empty (nothing is created on reading); ``None`` means the shipped ones only.
    """
    errors: list[InputError] = []
    running = _load_folder(shipped, errors)
    if installed is None:
        return list(running.values()), errors
    if installed.resolve() == shipped.resolve():
        errors.append(
            ConfigError(
                f"{installed} is the shipped definitions' folder; installed definitions live"
                " in a folder of their own, outside the package",
                file=installed,
                key=FOLDER_KEY,
            )
        )
        return list(running.values()), errors
    for name, definition in _load_folder(installed, errors).items():
        replaced = running.get(name)
        if replaced is not None and definition.version <= replaced.version:
            errors.append(
                DefinitionError(
                    f"workflow {name!r} version {definition.version} does not replace the"
                    f" shipped version {replaced.version} ({replaced.source.path}); an"
                    f" installed definition needs a higher workflow.version (at least"
                    f" {replaced.version + 1}), or remove the file to run the shipped one",
                    file=definition.source.path,
                    line=line_of(definition.source.text, ("workflow", "version")),
                    key=VERSION_KEY,
                )
            )
            continue
        running[name] = definition
    return list(running.values()), errors


def running_definitions(
    installed: Path | None, *, shipped: Path = DEFINITIONS
) -> list[WorkflowDefinition]:
    """:func:`overlay`, refusing with its first error (``wiring.build``)."""
    definitions, errors = overlay(installed, shipped=shipped)
    if errors:
        raise errors[0]
    return definitions


def _load_folder(folder: Path, errors: list[InputError]) -> dict[str, WorkflowDefinition]:
    """Every definition in ``folder`` by workflow name; a second file for a name is an error."""
    if folder.exists() and not folder.is_dir():
        errors.append(ConfigError("not a folder", file=folder, key=FOLDER_KEY))
        return {}
    found: dict[str, WorkflowDefinition] = {}
    for path in definition_paths(folder):
        try:
            definition = load_definition(path)
        except InputError as exc:
            errors.append(exc)
            continue
        first = found.get(definition.name)
        if first is not None:
            errors.append(
                DefinitionError(
                    f"workflow {definition.name!r} is also defined in {first.source.path}",
                    file=path,
                    line=line_of(definition.source.text, ("workflow", "name")),
                    key="workflow.name",
                )
            )
            continue
        found[definition.name] = definition
    return found


# --- validate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One file that does not load: where, and what is wrong."""

    file: str
    line: int | None
    key: str | None
    message: str

    @property
    def text(self) -> str:
        """``file:line: key: message``, as every input error is written."""
        return str(InputError(self.message, file=self.file, line=self.line, key=self.key))


@dataclass(frozen=True)
class DefinitionSummary:
    """One file that loads."""

    file: str
    name: str
    version: int
    kind: str
    title: str
    states: int
    steps: int


@dataclass
class ValidationReport:
    """The files that load and the problems of those that do not."""

    definitions: list[DefinitionSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_paths(paths: Sequence[Path] = (), installed: Path | None = None) -> ValidationReport:
    """Load every definition file in ``paths`` (files or folders).

    Without ``paths``: the definitions an application runs on, the shipped ones overlaid
    by those in the ``installed`` folder (:func:`overlay`), with its refusals as problems.
    Every failing file is reported, not only the first, and so is a second file defining
    a workflow name already defined by another. Needs no database.
    """
    report = ValidationReport()
    if not paths:
        definitions, errors = overlay(installed)
        report.definitions.extend(_summary(d.source.path, d) for d in definitions)
        report.problems.extend(_problem(exc, Path(exc.file or "")) for exc in errors)
        return report
    first_of: dict[str, Path] = {}
    for path in _expand(paths, report):
        try:
            definition = load_definition(path)
        except InputError as exc:
            report.problems.append(_problem(exc, path))
            continue
        name = definition.name
        if name in first_of:
            report.problems.append(
                Problem(
                    str(path),
                    line_of(definition.source.text, ("workflow", "name")),
                    "workflow.name",
                    f"workflow {name!r} is also defined in {first_of[name]}",
                )
            )
            continue
        first_of[name] = path
        report.definitions.append(_summary(path, definition))
    return report


def _summary(path: Path, definition: WorkflowDefinition) -> DefinitionSummary:
    spec = definition.spec
    return DefinitionSummary(
        str(path),
        definition.name,
        definition.version,
        definition.kind,
        spec.workflow.title,
        len(spec.state),
        len(spec.step),
    )


def _expand(paths: Sequence[Path], report: ValidationReport) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)  # a missing file is reported by load_definition
        elif found := definition_paths(path):
            files.extend(found)
        else:
            report.problems.append(
                Problem(str(path), None, None, "no workflow definition files (*.toml) in folder")
            )
    return files


def _problem(exc: InputError, path: Path) -> Problem:
    return Problem(exc.file or str(path), exc.line, exc.key, exc.detail)


# --- versions ------------------------------------------------------------------------------


def current_definitions(app: App) -> list[WorkflowDefinition]:
    """The definitions loaded from disk (not older versions rebuilt from the database)."""
    return [m.definition for key, m in sorted(app.machines.items()) if key == m.definition.name]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def remember_definitions(app: App) -> list[tuple[str, int]]:
    """Store the text of every loaded definition version not yet stored; return those stored.

    A version already stored with another text is refused: its instances were started on
    the stored text, so a change needs a new ``workflow.version``.
    """
    try:
        return _remember(app)
    except IntegrityError:
        # Another process stored the same version between our read and our insert: once
        # more, which now compares our text with the one it stored.
        return _remember(app)


def _remember(app: App) -> list[tuple[str, int]]:
    stored: list[tuple[str, int]] = []
    with app.db.session() as session:
        for definition in current_definitions(app):
            text = definition.source.text
            row = session.scalar(
                select(WorkflowSource).where(
                    WorkflowSource.name == definition.name,
                    WorkflowSource.version == definition.version,
                )
            )
            if row is None:
                session.add(
                    WorkflowSource(
                        name=definition.name,
                        version=definition.version,
                        sha256=digest(text),
                        text=text,
                        first_used_at=app.clock.now(),
                    )
                )
                stored.append((definition.name, definition.version))
            elif row.sha256 != digest(text):
                raise DefinitionError(
                    f"workflow {definition.name!r} version {definition.version} was changed "
                    "without raising workflow.version; the stored text differs (first used "
                    f"{row.first_used_at.astimezone(app.clock.tz):%Y-%m-%d}). Raise the "
                    "version: running instances keep the version they started with",
                    file=definition.source.path,
                    line=line_of(text, ("workflow", "version")),
                    key=VERSION_KEY,
                )
    return stored


def stored_label(name: str, version: int) -> Path:
    """Where a stored text is said to come from in messages: ``stored:name@version``."""
    return Path(f"stored:{name}@{version}")


def stored_definition(app: App, name: str, version: int) -> WorkflowDefinition:
    """Version ``version`` of workflow ``name`` as stored when it was first used."""
    with app.db.session() as session:
        text = session.scalar(
            select(WorkflowSource.text).where(
                WorkflowSource.name == name, WorkflowSource.version == version
            )
        )
    if text is None:
        raise NotFound("workflow version", f"{name} {version} (not stored)")
    return load_definition(stored_label(name, version), text=text)


def older_machine(app: App, name: str, version: int) -> WorkflowMachine:
    """The machine of an older version, rebuilt from its stored text (``App.older``)."""
    return WorkflowMachine(stored_definition(app, name, version))


# --- diff ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkflowDiff:
    """The changes from one version of a workflow to another; ``note`` says why there are none."""

    name: str
    old: str
    new: str
    old_version: int | None
    new_version: int | None
    changes: list[Change]
    note: str = ""


def diff_files(old_path: Path, new_path: Path) -> WorkflowDiff:
    """Compare two definition files (no database)."""
    return _diff(load_definition(old_path), load_definition(new_path))


def diff_against_file(
    old_path: Path, name: str | None = None, installed: Path | None = None
) -> WorkflowDiff:
    """Compare ``old_path`` with the running definition of the same workflow (or ``name``).

    The running definitions are the shipped ones overlaid by the ``installed`` folder's.
    """
    old = load_definition(old_path)
    on_disk = {d.name: d for d in running_definitions(installed)}
    wanted = name or old.name
    if wanted not in on_disk:
        raise NotFound("workflow", f"{wanted!r} on disk (known: {', '.join(sorted(on_disk))})")
    return _diff(old, on_disk[wanted])


def diff_against_stored(app: App, name: str | None = None) -> list[WorkflowDiff]:
    """For each workflow (or ``name``): the latest stored version against the file on disk."""
    current = {d.name: d for d in current_definitions(app)}
    with app.db.session() as session:
        latest = dict(
            session.execute(
                select(WorkflowSource.name, func.max(WorkflowSource.version)).group_by(
                    WorkflowSource.name
                )
            ).all()
        )
    names = sorted(set(current) | set(latest))
    if name is not None:
        if name not in names:
            raise NotFound("workflow", f"{name!r} (known: {', '.join(names)})")
        names = [name]
    diffs = []
    for each in names:
        new = current.get(each)
        if each not in latest:
            assert new is not None
            diffs.append(_unchanged(new, "no version stored yet: no instance has used it"))
            continue
        old = stored_definition(app, each, latest[each])
        if new is None:
            diffs.append(_unchanged(old, "stored, but no longer on disk"))
            continue
        diff = _diff(old, new)
        if old.version == new.version and diff.changes:
            diff = replace(diff, note="the text changed without raising workflow.version")
        diffs.append(diff)
    return diffs


def _diff(old: WorkflowDefinition, new: WorkflowDefinition) -> WorkflowDiff:
    return WorkflowDiff(
        name=new.name,
        old=str(old.source.path),
        new=str(new.source.path),
        old_version=old.version,
        new_version=new.version,
        changes=diff_definitions(old, new),
    )


def _unchanged(definition: WorkflowDefinition, note: str) -> WorkflowDiff:
    path = str(definition.source.path)
    return WorkflowDiff(definition.name, path, path, None, None, [], note)


# --- list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionUse:
    """One version of a workflow and how many instances run on it."""

    version: int
    first_used_at: datetime | None
    running: int
    finished: int


@dataclass(frozen=True)
class WorkflowListing:
    """A workflow: its version on disk and the versions instances run on."""

    name: str
    version: int | None
    """The version on disk; None when only stored versions remain."""
    kind: str
    title: str
    versions: list[VersionUse]


def list_workflows(app: App) -> list[WorkflowListing]:
    """Every workflow on disk or stored, with its instances per version (running / finished).

    An instance is finished when its state is final in the version it runs on; for a
    version that was never stored (instances created before versions were remembered)
    the final states of the version on disk are used.
    """
    current = {d.name: d for d in current_definitions(app)}
    with app.db.session() as session:
        stored: dict[tuple[str, int], datetime] = {
            (n, v): at
            for n, v, at in session.execute(
                select(WorkflowSource.name, WorkflowSource.version, WorkflowSource.first_used_at)
            )
        }
        counted = session.execute(
            select(
                Instance.workflow, Instance.workflow_version, Instance.state, func.count()
            ).group_by(Instance.workflow, Instance.workflow_version, Instance.state)
        ).all()
    definitions: dict[tuple[str, int], WorkflowDefinition | None] = {
        (n, d.version): d for n, d in current.items()
    }

    def definition_of(name: str, version: int) -> WorkflowDefinition | None:
        if (name, version) not in definitions:
            definitions[(name, version)] = (
                stored_definition(app, name, version) if (name, version) in stored else None
            )
        return definitions[(name, version)]

    uses: dict[tuple[str, int], list[int]] = {key: [0, 0] for key in stored}
    for name, version, state, count in counted:
        definition = definition_of(name, version) or current.get(name)
        finished = definition is not None and state in definition.final_states
        uses.setdefault((name, version), [0, 0])[1 if finished else 0] += count
    listings = []
    for name in sorted(set(current) | {n for n, _ in uses}):
        versions = sorted(v for n, v in uses if n == name)
        definition = current.get(name) or definition_of(name, versions[-1])
        listings.append(
            WorkflowListing(
                name=name,
                version=current[name].version if name in current else None,
                kind=definition.kind if definition else "",
                title=definition.spec.workflow.title if definition else "",
                versions=[VersionUse(v, stored.get((name, v)), *uses[(name, v)]) for v in versions],
            )
        )
    return listings
