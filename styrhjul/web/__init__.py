"""``styrhjul web``: the pages (Swedish, server-rendered) and the JSON API, an entry point.

Like the CLI and the daemon it only parses, calls one service and renders: who may see
what is decided in ``services.access``, who may do what in the workflow definitions and
``services.instances``. :mod:`.app` builds the FastAPI application around an
:class:`~styrhjul.services.context.App`; :mod:`.security` holds sessions, CSRF and the
caller; :mod:`.render` the Jinja2 environment; :mod:`.pages` and :mod:`.api` the routes.
"""
