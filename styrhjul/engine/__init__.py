"""The core: workflow definitions, guards and the state machines that decide transitions.

Nothing here performs I/O or knows the database: the service layer hands in a snapshot of
facts (:class:`~styrhjul.engine.machine.InstanceFacts`), the machine answers with the new
state or a refusal that names the current state and the allowed triggers.
"""
