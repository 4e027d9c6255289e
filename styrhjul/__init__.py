"""Styrhjul: the governance calendar (årshjul) of a school administration as executable rules.

The package is layered (enforced by import-linter, see ``pyproject.toml``)::

    cli                 entry points: parse, call one service, render
    wiring              the one composition root, ``build(settings, clock=..., transport=...)``
    services            use cases: the only place that loads, fires triggers, audits, commits
    db, notifications   adapters: SQLAlchemy models and migrations, mail rendering and transports
    engine, calendar,   core: state machines, working-day arithmetic, workflow definitions;
    workflows           no I/O library is imported here
    config, errors,     shared foundations
    clock, tomlpos

Nothing happens at import time.
"""

__version__ = "0.1.0"
