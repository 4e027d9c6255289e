"""``styrhjul daemon``: APScheduler keeps time; the database knows what is due.

An entry point beside the CLI (and later the web app). :mod:`.schedule` is the timetable as
data, :mod:`.jobs` the thin jobs APScheduler calls by name (each one use case of the service
layer), :mod:`.runtime` the process around them: the single-daemon lock on SQLite,
registration and heartbeat, the catch-up at start, signals and a graceful stop.
:mod:`.logs` writes one JSON object per line.
"""
