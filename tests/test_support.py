"""The shared test helpers that could make a check pass vacuously are themselves checked."""

from pathlib import Path

import pytest
from support import UPDATE_GOLDEN, check_golden, line_with


def test_updating_a_golden_file_fails_until_rerun_without_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(UPDATE_GOLDEN, "1")
    with pytest.raises(pytest.fail.Exception, match="review the change"):
        check_golden("new.txt", "Hej\r\n", folder=tmp_path)
    assert (tmp_path / "new.txt").read_bytes() == b"Hej\n"
    with pytest.raises(pytest.fail.Exception, match="run the tests again without"):
        check_golden("new.txt", "Hej då\n", folder=tmp_path)
    assert (tmp_path / "new.txt").read_bytes() == "Hej då\n".encode()
    check_golden("new.txt", "Hej då\n", folder=tmp_path)  # nothing to rewrite: compared

    monkeypatch.delenv(UPDATE_GOLDEN)
    check_golden("new.txt", "Hej då\r\n", folder=tmp_path)
    with pytest.raises(AssertionError):
        check_golden("new.txt", "Hej\n", folder=tmp_path)
    with pytest.raises(AssertionError, match="missing"):
        check_golden("absent.txt", "Hej\n", folder=tmp_path)
    assert not (tmp_path / "absent.txt").exists()


def test_line_with_counts_from_one_and_finds_later_occurrences() -> None:
    text = "a = 1\nb = 2\na = 3\n"
    assert line_with(text, "a =") == 1
    assert line_with(text, "a =", occurrence=2) == 3
    with pytest.raises(AssertionError, match="fewer than 3"):
        line_with(text, "a =", occurrence=3)
