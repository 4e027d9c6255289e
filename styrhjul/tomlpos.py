"""Map a key path in a TOML file to the line it is written on.

``tomllib`` parses without positions, yet an input error must name file, line and key.
:func:`key_lines` scans the text once and records the first line of every table header,
array-of-tables element and ``key = value`` line, so a path such as
``("transition", 2, "dest")`` can be found again. Values spanning several lines (arrays,
multi-line strings) are skipped over; keys inside inline tables map to the line of the
enclosing key. This is a locator for error messages, not a parser: the file is always
parsed by ``tomllib`` first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PathPart = str | int
KeyPath = tuple[PathPart, ...]

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY = rf"(?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_KEY})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_KEY})\s*=")


def _split_key(text: str) -> list[str]:
    parts = re.findall(rf"{_BARE}|{_QUOTED}", text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def _open_brackets(value: str) -> int:
    """Net count of ``[``/``{`` opened by a value, ignoring strings and comments."""
    depth = 0
    quote = ""
    i = 0
    while i < len(value):
        ch = value[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        i += 1
    return depth


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every table, array element and key of ``text`` with its 1-based line number."""
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    array_counts: dict[KeyPath, int] = {}
    depth = 0
    in_multiline = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if raw.count(in_multiline) % 2 == 1:
                in_multiline = ""
            continue
        if depth > 0:
            depth += _open_brackets(raw)
            continue
        header = _HEADER.match(raw)
        if header:
            path = tuple(_split_key(header.group(2)))
            if header.group(1) == "[[":
                index = array_counts.get(path, 0)
                array_counts[path] = index + 1
                for nested in [
                    k for k in array_counts if len(k) > len(path) and k[: len(path)] == path
                ]:
                    del array_counts[nested]  # a new parent element restarts its child arrays
                table = (*_resolve(path, array_counts), index)
            else:
                table = _resolve(path, array_counts)
            lines.setdefault(table, number)
            continue
        assign = _ASSIGN.match(raw)
        if assign:
            key = (*table, *_split_key(assign.group(1)))
            lines.setdefault(key, number)
            value = raw[assign.end() :].lstrip()
            for marker in ('"""', "'''"):
                if value.startswith(marker) and value.count(marker) == 1:
                    in_multiline = marker
            if not in_multiline:
                depth = max(0, _open_brackets(value))
    return lines


def _resolve(path: KeyPath, array_counts: dict[KeyPath, int]) -> KeyPath:
    """Insert the current index after every prefix of ``path`` that is an array of tables."""
    out: list[PathPart] = []
    for i, part in enumerate(path):
        out.append(part)
        prefix = tuple(p for p in path[: i + 1])
        if i < len(path) - 1 and prefix in array_counts:
            out.append(array_counts[prefix] - 1)
    return tuple(out)


def line_of(text: str, path: Sequence[PathPart]) -> int | None:
    """The line of ``path`` in ``text``, or of its nearest written ancestor; None if unknown."""
    lines = key_lines(text)
    key = tuple(path)
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return None


def dotted(path: Sequence[PathPart]) -> str:
    """A key path as people write it: ``transition[2].dest``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out
