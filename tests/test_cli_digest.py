"""``styrhjul digest send``: queued once per ISO week, sent by ``run`` into the Maildir.

In-process through ``styrhjul.cli.main.main(argv)`` over a copy of the planned database
(round 1 of 2026/27), with the clock set by ``--now``.
"""

from __future__ import annotations

import email
import email.policy
import mailbox

from support import Cli

DIRECTOR = "utbildningsdirektor@example.se"


def _digests(cli: Cli) -> list[str]:
    """The subjects of the digests in the Maildir (the round's invites go out beside them)."""
    subjects: list[str] = []
    if not cli.maildir.exists():
        return subjects
    for raw in mailbox.Maildir(cli.maildir, create=False):
        message = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
        if str(message["X-Styrhjul-Key"]).startswith("digest:"):
            assert message["To"].addresses[0].addr_spec == DIRECTOR
            subjects.append(str(message["Subject"]))
    return sorted(subjects)


def test_digest_send_queues_once_a_week_and_run_sends_it(planned_cli: Cli) -> None:
    cli = planned_cli
    out = cli.ok("digest", "send", now="2026-09-25 12:00")
    assert out.startswith("digests queued: 1 ")
    assert cli.ok("digest", "send", now="2026-09-27 18:00").startswith("digests queued: 0 ")
    assert _digests(cli) == []  # queued, not sent: the outbox sends it
    cli.ok("outbox", "send", now="2026-09-27 18:00")
    (subject,) = _digests(cli)
    assert subject.startswith("Veckosammanställning vecka 39 2026: ")
    assert subject.endswith(" försenade steg")


def test_digest_send_for_a_named_week(planned_cli: Cli) -> None:
    cli = planned_cli
    assert cli.ok("digest", "send", "--week", "2026-09-02").startswith("digests queued: 1 ")
    assert cli.ok("digest", "send").startswith("digests queued: 0 ")  # NOW is in week 36
    cli.ok("outbox", "send")
    assert _digests(cli) == ["Veckosammanställning vecka 36 2026: inget försenat"]


def test_digest_send_refuses_a_bad_week(planned_cli: Cli) -> None:
    err = planned_cli.fails(2, "digest", "send", "--week", "vecka 39")
    assert "--week" in err
    assert "expected a date like 2026-10-12, got 'vecka 39'" in err
