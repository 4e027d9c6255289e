"""Outgoing notifications: the adapter that turns meeting changes into e-mail.

The service layer fills in the plain records of :mod:`.messages`; this package renders them
(:mod:`.render`, templates under ``templates/<kind>/``), builds the iCalendar part
(:mod:`.ical`, :mod:`.vtimezone`), assembles the MIME message (:mod:`.compose`) and hands
it to a :class:`~.transports.Transport`. It knows nothing of the database: it imports only
:mod:`styrhjul.errors` and :mod:`styrhjul.clock` from the rest of the package.
"""
