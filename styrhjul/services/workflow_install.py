"""Installing a workflow definition uploaded by an administrator: check, compare, install.

An application runs on the shipped definitions overlaid by those installed in the
configured folder (``[workflows] folder``,
:func:`~styrhjul.services.definitions.running_definitions`), one ``<name>.toml`` per
workflow, and every version an instance may run on is stored in the database
(:func:`~styrhjul.services.definitions.remember_definitions`). Installing writes into
that folder, never into the package: on a server the package is read-only
(``ProtectSystem=strict``) and an upgrade of it would overwrite the file. It is what an
operator does by hand, done safely: the uploaded text must load
(:func:`~styrhjul.engine.definition.load_definition`, the check of ``styrhjul workflows
validate``) and carry a ``workflow.version`` above every version on disk or stored, since a
stored version never changes under the instances that run on it. Then, in one
transaction, the new version's text is stored with an audit row (entity ``workflow``,
the stored row's id), the file is replaced atomically in the folder (created, mode 0750,
if missing), and this process's machine is swapped: new instances start on the new
version, running ones keep theirs.

Other processes (the daemon, other web workers) read the folder when they start, so they
start new instances on the new version only after a restart; until then they keep
starting them on the previous version, which stays stored and valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from styrhjul.db.models import AuditEvent, WorkflowSource
from styrhjul.engine.definition import load_definition
from styrhjul.engine.diff import Change, diff_definitions
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import ConfigError, DefinitionError, InputError, NotFound
from styrhjul.services.context import App
from styrhjul.services.definitions import (
    VERSION_KEY,
    Problem,
    remember_definitions,
    stored_definition,
)
from styrhjul.tomlpos import line_of

WORKFLOW_ENTITY = "workflow"
"""The ``entity`` of an installation's audit row (its ``entity_id``: the stored version's id)."""


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


FOLDER_MODE = 0o750
"""The installed definitions' folder when installing creates it: the service's group reads."""


def install_target(app: App, name: str) -> Path:
    """The file of the configured folder that installing workflow ``name`` replaces.

    The file the running version came from when that is in the folder (whatever its
    name, so the folder never holds two files for one workflow), else ``<name>.toml``.
    """
    folder = app.settings.workflows_folder
    current = app.machines.get(name)
    if current is not None:
        source = current.definition.source.path
        if source.parent.resolve() == folder.resolve():
            return source
    target = folder / f"{name}.toml"
    if target.exists():
        raise InputError(
            f"{target.name} already exists in {folder} and defines another workflow",
            key="workflow.name",
        )
    return target


def definition_text(app: App, name: str, version: int | None = None) -> tuple[int, str]:
    """(version, text) of workflow ``name``: the current one, or a stored ``version``.

    A workflow no longer on disk shows its latest stored version.
    """
    if name in app.machines:
        current = app.machine(name).definition
        if version is None or version == current.version:
            return current.version, current.source.text
    elif version is None:
        version = _latest_stored(app, name)
        if version is None:
            raise NotFound("workflow", repr(name))
    return version, stored_definition(app, name, version).source.text


@dataclass
class DefinitionCheck:
    """An uploaded definition: its problems, or what installing it would change."""

    file: str
    digest: str
    problems: list[Problem] = field(default_factory=list)
    name: str = ""
    title: str = ""
    version: int | None = None
    old_version: int | None = None
    """The version it replaces (None: a new workflow)."""
    changes: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_definition(app: App, file: str, text: str) -> DefinitionCheck:
    """Validate ``text`` (uploaded as ``file``) and compare it with the installed version.

    Writes nothing. A problem names file, line and key as ``styrhjul workflows validate``
    does; a version not above every version on disk or stored is a problem too.
    """
    check = DefinitionCheck(file, text_digest(text))
    try:
        definition = load_definition(Path(file), text=text)
        WorkflowMachine(definition)
    except InputError as exc:
        check.problems.append(Problem(exc.file or file, exc.line, exc.key, exc.detail))
        return check
    check.name, check.version = definition.name, definition.version
    check.title = definition.spec.workflow.title
    current = app.machines.get(definition.name)
    highest = max(
        [_latest_stored(app, definition.name) or 0]
        + ([current.definition.version] if current is not None else [])
    )
    if definition.version <= highest:
        check.problems.append(
            Problem(
                file,
                line_of(text, ("workflow", "version")),
                VERSION_KEY,
                f"workflow {definition.name!r} already has version {highest}"
                f"{' with this very text' if _same_as_current(current, text) else ''};"
                f" give the new definition version {highest + 1} or higher: a version"
                " never changes under the instances that run on it",
            )
        )
        return check
    if current is not None:
        check.old_version = current.definition.version
        check.changes = diff_definitions(current.definition, definition)
    return check


def _same_as_current(current: WorkflowMachine | None, text: str) -> bool:
    return current is not None and current.definition.source.text == text


def _latest_stored(app: App, name: str) -> int | None:
    with app.db.session() as session:
        found: int | None = session.scalar(
            select(func.max(WorkflowSource.version)).where(WorkflowSource.name == name)
        )
        return found


@dataclass(frozen=True)
class Installed:
    """A definition just installed: which version replaced which, written where."""

    name: str
    version: int
    old_version: int | None
    path: str
    changes: int


def install_definition(
    app: App, file: str, text: str, *, actor: str, digest: str | None = None
) -> Installed:
    """Check and install ``text`` as its workflow's new version (see the module's docstring).

    ``digest`` is the SHA-256 of the text the administrator reviewed: another text is
    refused, so what is installed is what was compared.
    """
    if digest is not None and digest != text_digest(text):
        raise InputError(
            "the definition differs from the one that was checked; upload it again", key="digest"
        )
    remember_definitions(app)  # the version in use is stored before it is replaced
    check = check_definition(app, file, text)
    if not check.ok:
        first = check.problems[0]
        raise DefinitionError(first.message, file=first.file, line=first.line, key=first.key)
    assert check.version is not None
    target = install_target(app, check.name)
    now = app.clock.now()
    with app.db.session() as session:
        stored = WorkflowSource(
            name=check.name,
            version=check.version,
            sha256=check.digest,
            text=text,
            first_used_at=now,
        )
        session.add(stored)
        session.flush()
        session.add(
            AuditEvent(
                entity=WORKFLOW_ENTITY,
                entity_id=stored.id,
                at=now,
                actor=actor,
                trigger="install",
                from_state=f"version {check.old_version}" if check.old_version else None,
                to_state=f"version {check.version}",
                reason=f"{check.name} from {file}: {len(check.changes)} changes",
            )
        )
        _write(target, text)  # last: a failure rolls the stored version back
    machine = WorkflowMachine(load_definition(target))
    app.machines[check.name] = machine
    return Installed(check.name, check.version, check.old_version, str(target), len(check.changes))


def _write(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` atomically (a temporary file renamed into place).

    The folder is created (mode 0750) if missing.
    """
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        if not target.parent.is_dir():
            target.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)  # a race
            target.parent.chmod(FOLDER_MODE)  # mkdir's mode is narrowed by the umask
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):  # e.g. the folder is a file: nothing to remove
            temporary.unlink(missing_ok=True)
        raise ConfigError(
            f"cannot write the definition: {exc.strerror or exc}; the web app must be able to"
            f" write (or create) the folder workflows.folder names, {target.parent}",
            file=target,
            key="workflows.folder",
        ) from None
