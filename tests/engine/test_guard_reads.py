"""Each guard reads only the facts READS declares for it.

A service assembles only the facts a transition's guards read (some cost a query), so a
guard that read a fact not declared would be asked with that fact left empty. Here each
guard is asked about every combination of a few values per fact, and again with every
undeclared fact taken from another combination: the answer must not change.
"""

from __future__ import annotations

import itertools
from dataclasses import fields, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from styrhjul.engine.guards import GUARDS, READS, InstanceFacts, facts_read

T = datetime(2026, 10, 5, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
VALUES: dict[str, tuple[object, ...]] = {
    "state": ("planned", "held"),
    "now": (T, T + timedelta(days=2)),
    "starts_at": (None, T + timedelta(days=1)),
    "prepare_at": (None, T + timedelta(days=1)),
    "steps_open_required": ((), ("facts",)),
    "agreements_total": (0, 2),
    "agreements_open": ((), (7,)),
    "new_starts_at": (None, T - timedelta(days=1), T + timedelta(days=1), T + timedelta(days=3)),
    "chain_waiting": ((), ("dialog 3 is planned",)),
}


def _samples() -> list[InstanceFacts]:
    names = list(VALUES)
    return [
        InstanceFacts(ref="dialog 1", **dict(zip(names, combination, strict=True)))  # type: ignore[arg-type]
        for combination in itertools.product(*VALUES.values())
    ]


SAMPLES = _samples()


def test_every_guard_declares_what_it_reads() -> None:
    assert set(READS) == set(GUARDS)
    known = {f.name for f in fields(InstanceFacts)}
    for name, reads in READS.items():
        assert reads <= known, name
    assert set(VALUES) | {"ref"} == known  # a new fact needs values here


@pytest.mark.parametrize("name", sorted(GUARDS))
def test_a_guard_reads_nothing_it_does_not_declare(name: str) -> None:
    guard, reads = GUARDS[name], READS[name]
    others = SAMPLES[::29]
    for facts in SAMPLES:
        answer = guard(facts)
        for other in others:
            mixed = replace(other, **{field: getattr(facts, field) for field in reads})
            assert guard(mixed) == answer, (name, facts, mixed)


def test_facts_read_is_the_union() -> None:
    assert facts_read([]) == frozenset()
    assert facts_read(["has_agreements", "agreements_done"]) == {
        "agreements_total",
        "agreements_open",
    }
