"""Geometry of the årshjul drawing: where a day is, which lane an event takes, where labels go.

Pure arithmetic for :mod:`styrhjul.calendar.wheel`, kept apart so that the SVG module holds
only drawing. Angles are degrees clockwise from 12 o'clock; points are relative to the
wheel's centre with y growing downwards, as in SVG.

Labels are placed the way good printed wheels do it: outside the wheel, on the right for
events in the first half of the year and on the left for the second, each as near to its
event's height as the others allow. Overlaps are resolved per side by pool-adjacent-violators
(labels sorted by height are grouped into stacks, each stack centred on the mean of the heights
its labels want), which moves the labels as little as possible and keeps their order, so
leader lines do not cross.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "LabelSpot",
    "PlacedLabel",
    "assign_lanes",
    "day_number",
    "place_labels",
    "point",
    "year_days",
]


def year_days(year: int) -> int:
    """Days in ``year``: 366 in a leap year, else 365."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 366 if leap else 365


def day_number(year: int, day: date) -> int:
    """Days from 1 January of ``year`` to ``day`` (0 on 1 January; may be out of the year)."""
    return day.toordinal() - date(year, 1, 1).toordinal()


def point(radius: float, angle: float) -> tuple[float, float]:
    """The point at ``radius`` from the centre in the direction ``angle`` (12 o'clock is 0)."""
    rad = math.radians(angle)
    return radius * math.sin(rad), -radius * math.cos(rad)


def assign_lanes(intervals: Sequence[tuple[float, float]]) -> tuple[list[int], int]:
    """Lanes for half-open ``intervals`` so that no two in one lane overlap; and the lane count.

    Greedy interval partitioning in order of start (ties by end, then input order) gives the
    fewest lanes; each interval takes the lowest free lane, so a ring with no overlaps is one
    lane.
    """
    order = sorted(range(len(intervals)), key=lambda i: (intervals[i][0], intervals[i][1], i))
    lane_ends: list[float] = []
    lanes = [0] * len(intervals)
    for i in order:
        start, end = intervals[i]
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= start:
                lanes[i] = lane
                lane_ends[lane] = end
                break
        else:
            lanes[i] = len(lane_ends)
            lane_ends.append(end)
    return lanes, len(lane_ends)


@dataclass(frozen=True)
class LabelSpot:
    """A label that wants to be placed: its event's angle and its box (lines tall, width)."""

    angle: float
    lines: int
    width: float


@dataclass(frozen=True)
class PlacedLabel:
    """Where a label goes: its side (1 right, -1 left), its text edge ``x`` and ``top``.

    ``x`` is where the text starts on the right side and where it ends on the left, so the
    text always runs away from the wheel; ``top`` is the top of its first line.
    """

    side: int
    x: float
    top: float
    height: float


def place_labels(
    spots: Sequence[LabelSpot], *, radius: float, line_height: float, min_x: float
) -> list[PlacedLabel]:
    """Place every label outside the circle of ``radius`` so that no two boxes overlap.

    Each label wants the height where its angle meets the circle; the result keeps the
    input order. On each side the boxes stack without overlap (vertical separation alone
    keeps them apart, as one side's text runs away from the other's). The text edge follows
    the circle, and never comes nearer the vertical axis than ``min_x``.
    """
    placed: list[PlacedLabel | None] = [None] * len(spots)
    for side in (1, -1):
        members = [i for i, s in enumerate(spots) if _side(s.angle) == side]
        wanted = {i: point(radius, spots[i].angle)[1] for i in members}
        members.sort(key=lambda i: (wanted[i], spots[i].angle * side, i))
        heights = [spots[i].lines * line_height for i in members]
        centres = [wanted[i] for i in members]
        tops = _stack(centres, heights)
        for i, top, height in zip(members, tops, heights, strict=True):
            placed[i] = PlacedLabel(
                side=side,
                x=side * _edge_x(radius, top, height, min_x),
                top=top,
                height=height,
            )
    return [p for p in placed if p is not None]


def _side(angle: float) -> int:
    """Right (1) for the first half of the year, left (-1) for the second."""
    return 1 if angle % 360 < 180 else -1


def _edge_x(radius: float, top: float, height: float, min_x: float) -> float:
    """How far from the vertical axis a box at ``top`` must start to stay off the circle."""
    bottom = top + height
    nearest = 0.0 if top <= 0 <= bottom else min(abs(top), abs(bottom))
    if nearest >= radius:
        return min_x
    return max(math.sqrt(radius * radius - nearest * nearest), min_x)


def _stack(centres: Sequence[float], heights: Sequence[float]) -> list[float]:
    """Tops of boxes stacked in the given order, each as near its wanted centre as possible.

    Pool-adjacent-violators: a block of consecutive boxes sits where the mean of its
    members' wishes puts it; blocks that would overlap merge until none do.
    """
    blocks: list[tuple[int, int, float]] = []  # (first index, last index, top)
    for k in range(len(centres)):
        first, last, top = k, k, centres[k] - heights[k] / 2
        while blocks:
            p_first, p_last, p_top = blocks[-1]
            p_bottom = p_top + sum(heights[p_first : p_last + 1])
            if p_bottom <= top:
                break
            blocks.pop()
            first = p_first
            top = _block_top(centres, heights, first, last)
        blocks.append((first, last, top))
    tops: list[float] = []
    for first, last, top in blocks:
        y = top
        for k in range(first, last + 1):
            tops.append(y)
            y += heights[k]
    return tops


def _block_top(centres: Sequence[float], heights: Sequence[float], first: int, last: int) -> float:
    """The top that puts boxes ``first..last`` stacked closest (least squares) to their wishes."""
    offset = 0.0
    total = 0.0
    for k in range(first, last + 1):
        total += centres[k] - (offset + heights[k] / 2)
        offset += heights[k]
    return total / (last - first + 1)
