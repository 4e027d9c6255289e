"""The service layer: every use case of Styrhjul, shared by the CLI, the daemon and the web app.

A service loads what it needs, asks the engine for a decision, writes the change together
with its audit row and its outbox rows, and commits, with an explicit actor. Business rules
live here and in the workflow definitions, never in an entry point or a template.
"""
