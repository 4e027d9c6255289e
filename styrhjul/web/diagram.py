"""A workflow's state machine drawn as SVG, with the current state marked.

Drawing is presentation, so it lives with the pages, not in the services. The states of
the main path (the longest way from the initial state to a final one, in the order the
definition declares its transitions) stand left to right; other states stand in a row
below, under the states they connect to. A step along the main path is a straight arrow;
every other transition is a curved one, a transition that keeps the state (``dest = "="``)
a loop over its state. The SVG carries classes only, never style attributes, so the
strict CSP holds; ``styrhjul.css`` colours it. Each arrow has a ``<title>`` naming the
transition, and the page lists the transitions in words beside the drawing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from styrhjul.engine.definition import STAY, WorkflowDefinition

BOX_W = 156
BOX_H = 58
GAP = 64
ROW_GAP = 110
MARGIN = 16
LINE = 15


@dataclass(frozen=True)
class Edge:
    """One arrow: a transition from one of its sources."""

    trigger: str
    title: str
    source: str
    dest: str


def edges_of(definition: WorkflowDefinition) -> list[Edge]:
    """Every (source, destination) pair of every transition, in declaration order."""
    return [
        Edge(t.trigger, t.title, source, source if t.dest == STAY else t.dest)
        for t in definition.spec.transition
        for source in t.source
    ]


def main_path(definition: WorkflowDefinition) -> list[str]:
    """The longest simple path from the initial state, preferring one that ends final."""
    moves: dict[str, list[str]] = {}
    for edge in edges_of(definition):
        if edge.dest != edge.source and edge.dest not in moves.setdefault(edge.source, []):
            moves[edge.source].append(edge.dest)
    final = definition.final_states
    best: list[str] = []

    def better(path: list[str]) -> bool:
        return (path[-1] in final, len(path)) > (bool(best) and best[-1] in final, len(best))

    def walk(path: list[str]) -> None:
        nonlocal best
        if better(path):
            best = list(path)
        for dest in moves.get(path[-1], []):
            if dest not in path:
                path.append(dest)
                walk(path)
                path.pop()

    walk([definition.spec.workflow.initial])
    return best


def _layout(definition: WorkflowDefinition) -> dict[str, tuple[float, float]]:
    """The top-left corner of each state's box, before the top margin for loops and arcs."""
    path = main_path(definition)
    column = {name: i for i, name in enumerate(path)}
    places: dict[str, tuple[float, float]] = {
        name: (float(i * (BOX_W + GAP)), 0.0) for i, name in enumerate(path)
    }
    others = [s.name for s in definition.spec.state if s.name not in column]
    edges = edges_of(definition)
    wanted: list[tuple[float, str]] = []
    for name in others:
        near = [column[e.source] for e in edges if e.dest == name and e.source in column]
        near += [column[e.dest] for e in edges if e.source == name and e.dest in column]
        centre = sum(near) / len(near) if near else 0.0
        wanted.append((centre * (BOX_W + GAP), name))
    right = -float("inf")
    for centre, name in sorted(wanted):
        x = max(centre, right + BOX_W + GAP / 2)
        places[name] = (x, BOX_H + ROW_GAP)
        right = x
    return places


def _arrow(path: str, edge: Edge, classes: str) -> str:
    label = f"{edge.title} ({edge.trigger})"
    return (
        f'<path class="{classes}" d="{path}" marker-end="url(#arrow)">'
        f"<title>{escape(label)}</title></path>"
    )


Box = Callable[[str], tuple[float, float]]


def _edge_svg(edge: Edge, box: Box, path: list[str], spread: dict[str, int]) -> str:
    """One transition's arrow: straight along the main path, curved everywhere else."""
    sx, sy = box(edge.source)
    dx, dy = box(edge.dest)
    if edge.source == edge.dest:  # keeps the state: a loop over the box
        cx = sx + BOX_W / 2
        d = (
            f"M{cx - 18:.0f},{sy:.0f} C{cx - 30:.0f},{sy - 42:.0f}"
            f" {cx + 30:.0f},{sy - 42:.0f} {cx + 18:.0f},{sy - 2:.0f}"
        )
        return _arrow(d, edge, "edge loop")
    if edge.source in path and edge.dest in path:
        span = path.index(edge.dest) - path.index(edge.source)
        if span == 1:
            y = sy + BOX_H / 2
            return _arrow(f"M{sx + BOX_W:.0f},{y:.0f} L{dx - 2:.0f},{y:.0f}", edge, "edge main")
        # a skip or a way back along the main row: an arc above it
        x1 = sx + BOX_W * (0.7 if span > 0 else 0.3)
        x2 = dx + BOX_W * (0.3 if span > 0 else 0.7)
        peak = sy - 26 * abs(span) - 10
        d = f"M{x1:.0f},{sy:.0f} C{x1:.0f},{peak:.0f} {x2:.0f},{peak:.0f} {x2:.0f},{sy - 2:.0f}"
        return _arrow(d, edge, "edge other")
    # to or from the lower row: a curve between the facing sides, spread a little
    nth = spread.get(edge.dest, 0)
    spread[edge.dest] = nth + 1
    down = dy > sy
    x1 = sx + BOX_W / 2
    y1 = sy + BOX_H if down else sy
    x2 = dx + BOX_W / 2 + (nth % 5 - 2) * 12
    y2 = dy - 2 if down else dy + BOX_H + 2
    bend = (y1 + y2) / 2
    d = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{bend:.0f} {x2:.0f},{bend:.0f} {x2:.0f},{y2:.0f}"
    return _arrow(d, edge, "edge other")


def _state_svg(name: str, title: str, x: float, y: float, classes: list[str]) -> str:
    """A state's box with its title wrapped on up to three lines."""
    current = "current" in classes
    lines = textwrap.wrap(title, 21)[:3] or [name]
    first = y + BOX_H / 2 - (len(lines) - 1) * LINE / 2 + 5
    text = "".join(
        f'<tspan x="{x + BOX_W / 2:.0f}" y="{first + i * LINE:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    label = title + (" (nuvarande läge)" if current else "")
    marker = (
        f'<text class="marker" x="{x + BOX_W + 4:.0f}" y="{y + 14:.0f}">nu</text>'
        if current
        else ""
    )
    return (
        f'<g class="{" ".join(classes)}" data-state="{escape(name)}">'
        f"<title>{escape(label)}</title>"
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8"/>'
        f'<text text-anchor="middle">{text}</text>{marker}</g>'
    )


def state_diagram(
    definition: WorkflowDefinition, current: str, visited: frozenset[str] = frozenset()
) -> str:
    """The SVG of ``definition`` with ``current`` marked and ``visited`` states shaded."""
    places = _layout(definition)
    path = main_path(definition)
    edges = edges_of(definition)
    spans = [
        abs(path.index(e.dest) - path.index(e.source))
        for e in edges
        if e.source in path and e.dest in path
    ]
    lift = max([BOX_H, *(26 * span + 10 for span in spans if span > 1)])
    top = MARGIN + lift
    width = max(x for x, _ in places.values()) + BOX_W + 2 * MARGIN + 30
    height = top + max(y for _, y in places.values()) + BOX_H + MARGIN

    def box(name: str) -> tuple[float, float]:
        x, y = places[name]
        return x + MARGIN, y + top

    spread: dict[str, int] = {}
    parts = [_edge_svg(edge, box, path, spread) for edge in edges]
    for spec in definition.spec.state:
        classes = ["state"]
        if spec.name in definition.final_states:
            classes.append("final")
        if spec.name in visited:
            classes.append("visited")
        if spec.name == current:
            classes.append("current")
        parts.append(_state_svg(spec.name, spec.title, *box(spec.name), classes))
    title = escape(
        f"Tillståndsdiagram för {definition.spec.workflow.title}; nuvarande läge: "
        f"{definition.state_title(current)}"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}"'
        f' aria-labelledby="diagram-title"><title id="diagram-title">{title}</title>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse"><path class="arrowhead"'
        ' d="M0,0 L10,5 L0,10 z"/></marker></defs>' + "".join(parts) + "</svg>"
    )
