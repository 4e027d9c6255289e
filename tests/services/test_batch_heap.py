"""Planning's pause of the collector for older objects: they are left alone, not kept alive."""

from __future__ import annotations

import gc
import weakref

import pytest

from styrhjul.services.batch import older_objects_left_alone


class _Node:
    """An object in a reference cycle: only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_objects_older_than_the_pause_are_frozen_only_while_it_lasts() -> None:
    old = _Node()
    gone = weakref.ref(old)
    assert gc.get_freeze_count() == 0
    with older_objects_left_alone():
        assert gc.get_freeze_count() > 0
        del old  # garbage now, but frozen: a collection leaves it alone
        gc.collect()
        assert gone() is not None
        new = _Node()
        young = weakref.ref(new)
        del new
        gc.collect()
        assert young() is None  # what planning itself drops is collected as usual
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None  # and the older garbage once the pause ends


def test_the_pause_ends_when_planning_fails() -> None:
    with pytest.raises(RuntimeError), older_objects_left_alone():
        raise RuntimeError("refused")
    assert gc.get_freeze_count() == 0


def test_a_heap_someone_else_froze_stays_frozen() -> None:
    """The web app freezes its startup heap while it serves: a plan must not thaw it."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()  # frozen objects can still be freed: not exact
        with older_objects_left_alone():
            assert gc.get_freeze_count() > frozen // 2
        assert gc.get_freeze_count() > frozen // 2  # unfreezing would have made it 0
    finally:
        gc.unfreeze()
