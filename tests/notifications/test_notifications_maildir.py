import email
import email.policy
import io
from pathlib import Path

import pytest
from support import PRINCIPAL, SENDER, STAMP, make_invite

from styrhjul.errors import DeliveryFailed
from styrhjul.notifications.compose import compose_invite
from styrhjul.notifications.render import Renderer
from styrhjul.notifications.transports import ConsoleTransport, MaildirTransport, Transport


def message_for(key: str, renderer: Renderer) -> email.message.EmailMessage:
    return compose_invite(
        make_invite(), PRINCIPAL, sender=SENDER, key=key, stamp=STAMP, renderer=renderer
    )


def test_maildir_keeps_one_file_per_message_id(tmp_path: Path, renderer: Renderer) -> None:
    folder = tmp_path / "utkorg"
    transport: Transport = MaildirTransport(folder)
    first, second = message_for("outbox:1", renderer), message_for("outbox:2", renderer)
    transport.send(first)
    transport.send(second)
    transport.send(message_for("outbox:1", renderer))  # the resend after a crash
    transport.close()  # forgets its index; the next send reads the folder again
    transport.send(message_for("outbox:2", renderer))
    files = sorted((folder / "new").iterdir())
    assert len(files) == 2
    assert not list((folder / "cur").iterdir())
    ids = {
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Message-ID"]
        for path in files
    }
    assert ids == {first["Message-ID"], second["Message-ID"]}


def test_maildir_index_is_read_from_the_folder(tmp_path: Path, renderer: Renderer) -> None:
    MaildirTransport(tmp_path).send(message_for("outbox:1", renderer))
    restarted = MaildirTransport(tmp_path)  # a new process knows nothing in memory
    restarted.send(message_for("outbox:1", renderer))
    restarted.send(message_for("outbox:3", renderer))
    assert len(list((tmp_path / "new").iterdir())) == 2


def test_maildir_file_is_the_whole_message(tmp_path: Path, renderer: Renderer) -> None:
    message = message_for("outbox:1", renderer)
    MaildirTransport(tmp_path).send(message)
    (path,) = (tmp_path / "new").iterdir()
    stored = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert stored["Subject"] == message["Subject"]
    (attachment,) = stored.iter_attachments()
    assert attachment.get_filename() == "invite.ics"


def test_maildir_that_cannot_be_written_is_a_temporary_failure(
    tmp_path: Path, renderer: Renderer
) -> None:
    blocker = tmp_path / "fil"
    blocker.write_text("inte en katalog")
    with pytest.raises(DeliveryFailed, match=r"maildir .*fil") as failure:
        MaildirTransport(blocker / "utkorg").send(message_for("outbox:1", renderer))
    assert not failure.value.permanent


def test_console_shows_headers_text_and_attachment(renderer: Renderer) -> None:
    stream = io.StringIO()
    transport: Transport = ConsoleTransport(stream)
    transport.send(message_for("outbox:1", renderer))
    transport.close()
    shown = stream.getvalue()
    assert 'To: "Rektor, Västra skolan" <rektor.vastra@skola.helsingborg.test>' in shown
    assert "Subject: Inbjudan: Budgetdialog, Västra skolan" in shown
    assert "Dina förberedelser" in shown
    assert "[application/ics: invite.ics]" in shown
    assert "=C3" not in shown  # decoded, not quoted-printable
