"""A fake Exchange server: EWS SOAP over HTTP on 127.0.0.1, for the exchange transport's tests.

No Exchange server can run here, so the tests fake it at the HTTP seam: a real HTTP server
(http.server in a thread, port chosen by the OS) that reads each SOAP request with
xml.etree and answers with the envelopes the EWS schema defines, for exactly the operations
exchangelib and the adapter use:

- ConvertId (exchangelib's version probe; answered with ServerVersionInfo and an error for
  the dummy id, as a real server does),
- GetFolder of distinguished folders (root, msgfolderroot, sentitems, calendar, deleteditems),
- FindItem with an IsEqualTo restriction on a FieldURI (message:InternetMessageId) or an
  ExtendedFieldURI (a named PublicStrings property), and GetItem (exchangelib fetches
  extended properties with GetItem after a FindItem for the ids),
- CreateItem of a Message (SaveOnly, SendOnly, SendAndSaveCopy; fields or MimeContent), of a
  CalendarItem (with SendMeetingInvitations) and of a CancelCalendarItem,
- UpdateItem with SetItemField/DeleteItemField on a calendar item.

Each user has an in-memory mailbox (folder name -> items); ``outgoing`` records what the
server would have put on the wire (messages, meeting requests and cancellations). The
mailbox is chosen the way Exchange does it: the ExchangeImpersonation header, else the
Mailbox of the DistinguishedFolderId, else the logged-in user.

Authorization: Basic (user:password) and Bearer tokens are checked; NTLM is a challenge-
response handshake that is not worth faking, so it is not supported here (and not tested).
``fail_next("401" | "500" | "busy", times)`` makes the next requests fail.
"""

from __future__ import annotations

import base64
import email
import email.policy
import itertools
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.etree import ElementTree as ET

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
for _prefix, _uri in (("s", S), ("m", M), ("t", T), ("e", E)):
    ET.register_namespace(_prefix, _uri)

FOLDER_CLASSES = {
    "root": ("Folder", "", ""),
    "msgfolderroot": ("Folder", "IPF.Note", "Top of Information Store"),
    "sentitems": ("Folder", "IPF.Note", "Skickat"),
    "calendar": ("CalendarFolder", "IPF.Appointment", "Kalender"),
    "deleteditems": ("Folder", "IPF.Note", "Borttaget"),
}
SIMPLE_FIELDS = {
    "item:Subject": "Subject",
    "item:Body": "Body",
    "calendar:Start": "Start",
    "calendar:End": "End",
    "calendar:Location": "Location",
    "message:InternetMessageId": "InternetMessageId",
}


def _t(name: str) -> str:
    return f"{{{T}}}{name}"


def _m(name: str) -> str:
    return f"{{{M}}}{name}"


@dataclass
class Item:
    """One stored item: its kind (Message, CalendarItem), id, change key and properties."""

    kind: str
    item_id: str
    change_key: int = 1
    props: dict[str, str] = field(default_factory=dict)
    extended: dict[str, str] = field(default_factory=dict)
    """PropertyName -> value of named (PublicStrings) properties."""
    to: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    cancelled: bool = False
    mime: bytes | None = None


@dataclass
class Outgoing:
    """What the server sent: ``kind`` is message, meeting-request or meeting-cancellation."""

    kind: str
    sender: str
    recipients: list[str]
    subject: str
    item_id: str


class EwsFake:
    """The server and its state; use as a context manager or call start()/stop()."""

    version = "V2017_07_11"

    def __init__(
        self, *, users: dict[str, str] | None = None, tokens: set[str] | None = None
    ) -> None:
        self.users = users or {}
        self.tokens = tokens or set()
        self.mailboxes: dict[str, dict[str, list[Item]]] = {}
        self.outgoing: list[Outgoing] = []
        self.errors: list[str] = []
        """Requests the fake could not handle (a test should assert this stays empty)."""
        self.requests: list[tuple[str, str]] = []
        """(operation, Authorization header) of every request, in order."""
        self._failures: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                try:
                    status, body = fake.handle(self.headers.get("Authorization", ""), data)
                except Exception as error:
                    fake.errors.append(f"{type(error).__name__}: {error}")
                    status, body = 400, f"fake EWS: {error}".encode()
                self.send_response(status)
                content_type = "text/xml; charset=utf-8" if body.startswith(b"<") else "text/html"
                self.send_header("Content-Type", content_type)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="ews"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest shows failures, not every request."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/EWS/Exchange.asmx"

    def start(self) -> EwsFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> EwsFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        assert not self.errors, f"the fake EWS server could not handle: {self.errors}"

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Answer the next ``times`` requests with 401, a bare 500 or ErrorServerBusy."""
        assert kind in {"401", "500", "busy"}, kind
        self._failures.extend([kind] * times)

    # -- state, for assertions ---------------------------------------------------------------

    def folder(self, user: str, name: str) -> list[Item]:
        return self.mailboxes.setdefault(user.lower(), {}).setdefault(name, [])

    def _find(self, item_id: str) -> tuple[list[Item], Item]:
        for folders in self.mailboxes.values():
            for items in folders.values():
                for item in items:
                    if item.item_id == item_id:
                        return items, item
        raise KeyError(item_id)

    # -- the protocol ----------------------------------------------------------------------

    def _authorized(self, header: str) -> str | None:
        """The logged-in user (or "app" for a bearer token), or None."""
        scheme, _, value = header.partition(" ")
        if scheme == "Basic":
            # requests encodes Basic credentials in Latin-1 (as IIS reads them by default).
            user, _, password = base64.b64decode(value).decode("latin-1").partition(":")
            return user if self.users.get(user) == password and password else None
        if scheme == "Bearer":
            return "app" if value in self.tokens else None
        return None

    def handle(self, authorization: str, data: bytes) -> tuple[int, bytes]:
        with self._lock:
            root = ET.fromstring(data)
            body = root.find(f"{{{S}}}Body")
            assert body is not None, "a SOAP request has a Body"
            assert len(body), "a SOAP Body holds an operation"
            request = body[0]
            operation = request.tag.rpartition("}")[2]
            self.requests.append((operation, authorization))
            if self._failures:
                kind = self._failures.pop(0)
                if kind == "401":
                    return 401, b""
                if kind == "500":
                    return 500, b"500 Internal Server Error"
                return 500, _busy_fault()
            login = self._authorized(authorization)
            if login is None:
                return 401, b""
            header = root.find(f"{{{S}}}Header")
            impersonated = None
            if header is not None:
                found = header.find(f"{_t('ExchangeImpersonation')}//{_t('PrimarySmtpAddress')}")
                impersonated = found.text if found is not None else None
            handler = getattr(self, f"_op_{operation}", None)
            assert handler is not None, f"the fake does not implement {operation}"
            user = (impersonated or login).lower()
            messages = handler(request, user)
            return 200, _envelope(operation, messages, self.version)

    def _mailbox_of(self, elem: ET.Element | None, user: str) -> str:
        if elem is not None:
            address = elem.find(f"{_t('Mailbox')}/{_t('EmailAddress')}")
            if address is not None and address.text:
                return address.text.lower()
        return user

    def _op_ConvertId(self, request: ET.Element, user: str) -> list[ET.Element]:  # noqa: N802
        return [_error("ConvertId", "ErrorInvalidIdMalformed", "Id is malformed.")]

    def _op_GetFolder(self, request: ET.Element, user: str) -> list[ET.Element]:  # noqa: N802
        answers = []
        for wanted in request.iter(_t("DistinguishedFolderId")):
            name = wanted.get("Id", "")
            if name not in FOLDER_CLASSES:
                answers.append(_error("GetFolder", "ErrorFolderNotFound", f"no folder {name}"))
                continue
            mailbox = self._mailbox_of(wanted, user)
            element, folder_class, display = FOLDER_CLASSES[name]
            message = _success("GetFolder")
            folders = ET.SubElement(message, _m("Folders"))
            folder = ET.SubElement(folders, _t(element))
            ET.SubElement(folder, _t("FolderId"), Id=f"{mailbox}/{name}", ChangeKey="1")
            ET.SubElement(folder, _t("FolderClass")).text = folder_class
            ET.SubElement(folder, _t("DisplayName")).text = display
            count = len(self.folder(mailbox, name))
            ET.SubElement(folder, _t("TotalCount")).text = str(count)
            ET.SubElement(folder, _t("ChildFolderCount")).text = "0"
            if element == "Folder":
                ET.SubElement(folder, _t("UnreadCount")).text = "0"
            answers.append(message)
        return answers

    def _folder_ref(self, parent: ET.Element, user: str) -> tuple[str, str]:
        """(mailbox, folder name) from a DistinguishedFolderId or a FolderId we handed out."""
        distinguished = parent.find(_t("DistinguishedFolderId"))
        if distinguished is not None:
            return self._mailbox_of(distinguished, user), distinguished.get("Id", "")
        folder_id = parent.find(_t("FolderId"))
        assert folder_id is not None, "a folder reference"
        mailbox, _, name = folder_id.get("Id", "").rpartition("/")
        return mailbox, name

    def _op_FindItem(self, request: ET.Element, user: str) -> list[ET.Element]:  # noqa: N802
        parents = request.find(_m("ParentFolderIds"))
        assert parents is not None
        mailbox, name = self._folder_ref(parents, user)
        equal = request.find(f"{_m('Restriction')}/{_t('IsEqualTo')}")
        assert equal is not None, "the adapter always searches with IsEqualTo"
        constant = equal.find(f"{_t('FieldURIOrConstant')}/{_t('Constant')}")
        assert constant is not None
        wanted = constant.get("Value", "")
        by_field = equal.find(_t("FieldURI"))
        by_extended = equal.find(_t("ExtendedFieldURI"))
        hits = []
        for item in self.folder(mailbox, name):
            if by_field is not None:
                prop = SIMPLE_FIELDS[by_field.get("FieldURI", "")]
                value = item.props.get(prop)
            else:
                assert by_extended is not None
                value = item.extended.get(by_extended.get("PropertyName", ""))
            if value == wanted:
                hits.append(item)
        message = _success("FindItem")
        root = ET.SubElement(
            message,
            _m("RootFolder"),
            IndexedPagingOffset=str(len(hits)),
            TotalItemsInView=str(len(hits)),
            IncludesLastItemInRange="true",
        )
        items = ET.SubElement(root, _t("Items"))
        for item in hits:
            items.append(_item_element(item))
        return [message]

    def _op_GetItem(self, request: ET.Element, user: str) -> list[ET.Element]:  # noqa: N802
        answers = []
        for wanted in request.iter(_t("ItemId")):
            try:
                _, item = self._find(wanted.get("Id", ""))
            except KeyError:
                answers.append(_error("GetItem", "ErrorItemNotFound", "not found"))
                continue
            message = _success("GetItem")
            ET.SubElement(message, _m("Items")).append(_item_element(item))
            answers.append(message)
        return answers

    def _invite(self, kind: str, organizer: str, item: Item) -> None:
        """Record the meeting request or cancellation Exchange sends to the attendees."""
        subject = item.props.get("Subject", "")
        self.outgoing.append(
            Outgoing(kind, organizer, item.required + item.optional, subject, item.item_id)
        )

    def _new_id(self) -> str:
        return f"AAMk{next(self._ids):06d}"

    def _op_CreateItem(self, request: ET.Element, user: str) -> list[ET.Element]:  # noqa: N802
        disposition = request.get("MessageDisposition", "SaveOnly")
        invitations = request.get("SendMeetingInvitations", "SendToNone")
        saved = request.find(_m("SavedItemFolderId"))
        items = request.find(_m("Items"))
        assert items is not None
        answers = []
        for elem in items:
            kind = elem.tag.rpartition("}")[2]
            message = _success("CreateItem")
            created = ET.SubElement(message, _m("Items"))
            if kind == "CancelCalendarItem":
                reference = elem.find(_t("ReferenceItemId"))
                assert reference is not None
                try:
                    folder, item = self._find(reference.get("Id", ""))
                except KeyError:
                    answers.append(_error("CreateItem", "ErrorItemNotFound", "not found"))
                    continue
                item.cancelled = True
                item.change_key += 1
                folder.remove(item)  # the organiser's copy goes to Deleted Items
                self.folder(user, "deleteditems").append(item)
                self._invite("meeting-cancellation", user, item)
                answers.append(message)
                continue
            item = Item(kind=kind, item_id=self._new_id())
            _apply(item, elem)
            if kind == "Message":
                folder_name = self._folder_ref(saved, user)[1] if saved is not None else "drafts"
                sender = self._folder_ref(saved, user)[0] if saved is not None else user
                if disposition in {"SendOnly", "SendAndSaveCopy"}:
                    self.outgoing.append(
                        Outgoing(
                            "message", sender, item.to, item.props.get("Subject", ""), item.item_id
                        )
                    )
                if disposition != "SendOnly":
                    self.folder(sender, folder_name).append(item)
                if disposition == "SaveOnly":
                    created.append(_item_element(item))
            else:
                assert kind == "CalendarItem", kind
                mailbox, folder_name = (
                    self._folder_ref(saved, user) if saved is not None else (user, "calendar")
                )
                self.folder(mailbox, folder_name).append(item)
                if invitations != "SendToNone":
                    self._invite("meeting-request", mailbox, item)
                created.append(_item_element(item, ids_only=True))
            answers.append(message)
        return answers

    def _op_UpdateItem(self, request: ET.Element, user: str) -> list[ET.Element]:  # noqa: N802
        invitations = request.get("SendMeetingInvitationsOrCancellations", "SendToNone")
        answers = []
        for change in request.iter(_t("ItemChange")):
            reference = change.find(_t("ItemId"))
            assert reference is not None
            try:
                _, item = self._find(reference.get("Id", ""))
            except KeyError:
                answers.append(_error("UpdateItem", "ErrorItemNotFound", "not found"))
                continue
            if reference.get("ChangeKey") != str(item.change_key):
                answers.append(
                    _error("UpdateItem", "ErrorIrresolvableConflict", "the change key is stale")
                )
                continue
            updates = change.find(_t("Updates"))
            assert updates is not None
            for update in updates:
                verb = update.tag.rpartition("}")[2]
                if verb == "SetItemField":
                    carrier = next(
                        e for e in update if e.tag.endswith(("}Message", "}CalendarItem"))
                    )
                    _apply(item, carrier)
                else:
                    assert verb == "DeleteItemField", verb
                    uri = update.find(_t("FieldURI"))
                    if uri is not None and uri.get("FieldURI") in SIMPLE_FIELDS:
                        item.props.pop(SIMPLE_FIELDS[uri.get("FieldURI", "")], None)
                    elif uri is not None and uri.get("FieldURI") == "calendar:OptionalAttendees":
                        item.optional = []
            item.change_key += 1
            if invitations != "SendToNone":
                self._invite("meeting-request", user, item)
            message = _success("UpdateItem")
            items = ET.SubElement(message, _m("Items"))
            items.append(_item_element(item, ids_only=True))
            conflicts = ET.SubElement(message, _m("ConflictResults"))
            ET.SubElement(conflicts, _t("Count")).text = "0"
            answers.append(message)
        return answers


def _apply(item: Item, elem: ET.Element) -> None:
    """Copy the properties of a Message/CalendarItem element (full or one field) into ``item``."""
    for child in elem:
        name = child.tag.rpartition("}")[2]
        if name in {"Subject", "Body", "Start", "End", "Location", "InternetMessageId"}:
            item.props[name] = child.text or ""
        elif name == "MimeContent":
            item.mime = base64.b64decode(child.text or "")
            parsed = email.message_from_bytes(item.mime, policy=email.policy.default)
            item.props["Subject"] = str(parsed.get("Subject", ""))
            if "InternetMessageId" not in item.props and parsed.get("Message-ID"):
                item.props["InternetMessageId"] = str(parsed["Message-ID"])
            item.to = [a.addr_spec for a in getattr(parsed.get("To"), "addresses", ())]
        elif name in {"ToRecipients", "RequiredAttendees", "OptionalAttendees"}:
            addresses = [a.text or "" for a in child.iter(_t("EmailAddress"))]
            attribute = {"ToRecipients": "to", "RequiredAttendees": "required"}.get(
                name, "optional"
            )
            setattr(item, attribute, addresses)
        elif name == "ExtendedProperty":
            uri = child.find(_t("ExtendedFieldURI"))
            value = child.find(_t("Value"))
            assert uri is not None
            assert value is not None
            item.extended[uri.get("PropertyName", "")] = value.text or ""


def _item_element(item: Item, *, ids_only: bool = False) -> ET.Element:
    elem = ET.Element(_t(item.kind))
    ET.SubElement(elem, _t("ItemId"), Id=item.item_id, ChangeKey=str(item.change_key))
    if ids_only:
        return elem
    for name in ("Subject", "InternetMessageId"):
        if name in item.props:
            ET.SubElement(elem, _t(name)).text = item.props[name]
    for property_name, value in item.extended.items():
        extended = ET.SubElement(elem, _t("ExtendedProperty"))
        property_type = "Integer" if value.lstrip("-").isdigit() else "String"
        ET.SubElement(
            extended,
            _t("ExtendedFieldURI"),
            DistinguishedPropertySetId="PublicStrings",
            PropertyName=property_name,
            PropertyType=property_type,
        )
        ET.SubElement(extended, _t("Value")).text = value
    if item.kind == "CalendarItem":
        ET.SubElement(elem, _t("IsCancelled")).text = "true" if item.cancelled else "false"
    return elem


def _success(operation: str) -> ET.Element:
    message = ET.Element(_m(f"{operation}ResponseMessage"), ResponseClass="Success")
    ET.SubElement(message, _m("ResponseCode")).text = "NoError"
    return message


def _error(operation: str, code: str, text: str) -> ET.Element:
    message = ET.Element(_m(f"{operation}ResponseMessage"), ResponseClass="Error")
    ET.SubElement(message, _m("MessageText")).text = text
    ET.SubElement(message, _m("ResponseCode")).text = code
    ET.SubElement(message, _m("DescriptiveLinkKey")).text = "0"
    return message


def _envelope(operation: str, messages: list[ET.Element], version: str) -> bytes:
    envelope = ET.Element(f"{{{S}}}Envelope")
    header = ET.SubElement(envelope, f"{{{S}}}Header")
    ET.SubElement(
        header,
        _t("ServerVersionInfo"),
        MajorVersion="15",
        MinorVersion="1",
        MajorBuildNumber="2507",
        MinorBuildNumber="6",
        Version=version,
    )
    body = ET.SubElement(envelope, f"{{{S}}}Body")
    response = ET.SubElement(body, _m(f"{operation}Response"))
    container = ET.SubElement(response, _m("ResponseMessages"))
    container.extend(messages)
    return ET.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _busy_fault() -> bytes:
    """A SOAP fault with ErrorServerBusy, as Exchange throttling answers (HTTP 500)."""
    envelope = ET.Element(f"{{{S}}}Envelope")
    body = ET.SubElement(envelope, f"{{{S}}}Body")
    fault = ET.SubElement(body, f"{{{S}}}Fault")
    ET.SubElement(fault, "faultcode").text = "a:ErrorServerBusy"
    ET.SubElement(fault, "faultstring").text = "The server cannot service this request right now."
    detail = ET.SubElement(fault, "detail")
    ET.SubElement(detail, f"{{{E}}}ResponseCode").text = "ErrorServerBusy"
    ET.SubElement(detail, f"{{{E}}}Message").text = "The server cannot service this request."
    xml = ET.SubElement(detail, _t("MessageXml"))
    ET.SubElement(xml, _t("Value"), Name="BackOffMilliseconds").text = "30000"
    return ET.tostring(envelope, xml_declaration=True, encoding="utf-8")
