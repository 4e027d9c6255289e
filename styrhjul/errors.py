"""Every error Styrhjul raises on purpose, in one tree.

::

    StyrhjulError                     base; ``str()`` is the message a user sees
    ├── InputError                    bad input from a file or the command line (exit 2, HTTP 400)
    │   ├── ConfigError               config.toml or the environment: file, line, key
    │   └── DefinitionError           a workflow or example-data file: file, line, key
    ├── NotFound                      a referenced thing does not exist (exit 3, HTTP 404)
    ├── TransitionRefused             the state machine says no: state and allowed triggers
    │                                 (exit 4, HTTP 409)
    ├── PermissionDenied              the actor may not do this (exit 5, HTTP 403)
    ├── NotAuthenticated              no valid login or session (exit 5, HTTP 401)
    ├── ConflictError                 someone else changed it first (exit 6, HTTP 409)
    ├── DeliveryFailed                a transport could not deliver; says whether to retry
    │                                 (exit 7, HTTP 502)
    └── AlreadyRunning                a second daemon on a database that allows only one
                                      (exit 8)

Errors name things: "dialog 412: cannot 'close' in state 'held'; allowed: follow_up, cancel".
Entry points map the classes to exit codes and HTTP statuses in one place each
(:data:`EXIT_CODES`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class StyrhjulError(Exception):
    """Base of every deliberate error; the message is meant for the user."""


class InputError(StyrhjulError):
    """Bad input. When it comes from a file, it names the file, the line and the key."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key
        self.detail = message
        where = ""
        if self.file is not None:
            where = self.file
            if line is not None:
                where += f":{line}"
            where += ": "
        if key:
            where += f"{key}: "
        super().__init__(where + message)


class ConfigError(InputError):
    """The configuration file or an environment variable is wrong."""


class DefinitionError(InputError):
    """A workflow definition or an example-data file is wrong."""


class NotFound(StyrhjulError):
    """A referenced object does not exist."""

    def __init__(self, kind: str, ref: object) -> None:
        self.kind = kind
        self.ref = ref
        super().__init__(f"{kind} {ref} not found")


class TransitionRefused(StyrhjulError):
    """A trigger that the instance's current state does not allow, or whose guard fails."""

    def __init__(
        self,
        ref: str,
        trigger: str,
        state: str,
        allowed: Iterable[str],
        reason: str | None = None,
    ) -> None:
        self.ref = ref
        self.trigger = trigger
        self.state = state
        self.allowed = sorted(allowed)
        self.reason = reason
        allowed_text = ", ".join(self.allowed) if self.allowed else "none (final state)"
        message = f"{ref}: cannot '{trigger}' in state '{state}'"
        if reason:
            message += f": {reason}"
        else:
            message += f"; allowed: {allowed_text}"
        super().__init__(message)


class PermissionDenied(StyrhjulError):
    """The actor holds none of the roles the action requires."""


class NotAuthenticated(StyrhjulError):
    """No valid session, token or password: who is asking is not known."""


class ConflictError(StyrhjulError):
    """Optimistic concurrency: the row changed since it was read."""

    def __init__(self, ref: str, expected_version: int | None) -> None:
        self.ref = ref
        self.expected_version = expected_version
        super().__init__(
            f"{ref} was changed by someone else (expected version {expected_version});"
            " nothing was saved, load it again and retry"
        )


class DeliveryFailed(StyrhjulError):
    """A transport could not deliver a message. ``permanent`` says not to retry."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        self.reason = reason
        self.permanent = permanent
        super().__init__(reason)


class AlreadyRunning(StyrhjulError):
    """Another daemon holds the database, and this one may not join it (SQLite)."""


EXIT_CODES: dict[type[StyrhjulError], int] = {
    InputError: 2,
    NotFound: 3,
    TransitionRefused: 4,
    PermissionDenied: 5,
    ConflictError: 6,
    DeliveryFailed: 7,
    AlreadyRunning: 8,
    NotAuthenticated: 5,
}

HTTP_STATUSES: dict[type[StyrhjulError], int] = {
    InputError: 400,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    TransitionRefused: 409,
    ConflictError: 409,
    AlreadyRunning: 409,
    DeliveryFailed: 502,
}
"""The HTTP status of each error class, for the web app and its JSON API."""


def http_status(error: StyrhjulError) -> int:
    """The HTTP status for ``error`` (the nearest class in :data:`HTTP_STATUSES`)."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUSES:
            return HTTP_STATUSES[cls]
    return 500


def exit_code(error: StyrhjulError) -> int:
    """The process exit code for ``error`` (the nearest class in :data:`EXIT_CODES`)."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
