"""The ``options`` filter writes exactly what the templates' option loop wrote.

The overdue page's unit and area menus moved from a Jinja loop to the filter (it keeps the
escaped options of a list of units); the page's HTML must not change. The loop is rendered
here with the pages' own environment settings and compared byte for byte.
"""

from __future__ import annotations

import pytest

from styrhjul.web.render import environment

LOOP = """<select>
      <option value="">Alla</option>
      {% for _, code, name, _ in items %}
      <option value="{{ code }}"{% if chosen == code %} selected{% endif %}>{{ name }}</option>
      {% endfor %}
    </select>
"""
FILTER = """<select>
      <option value="">Alla</option>
      {% if items %}
      {{ items | options(chosen) }}
      {% endif %}
    </select>
"""

UNITS = [
    (1, "avd-1", "Avdelning 1", "area"),
    (2, "sk<o>la", 'Skola "Björken" & Co', "unit"),
    (3, "lag'3", "Arbetslag <3>", "team"),
]


@pytest.mark.parametrize("chosen", ["", "avd-1", "sk<o>la", "lag'3", "saknas"])
@pytest.mark.parametrize("items", [UNITS, UNITS[:1], [], UNITS[::-1]])
def test_options_render_as_the_loop_did(
    items: list[tuple[int, str, str, str]], chosen: str
) -> None:
    env = environment()
    expected = env.from_string(LOOP).render(items=items, chosen=chosen)
    assert env.from_string(FILTER).render(items=items, chosen=chosen) == expected
    assert expected.count(" selected") == sum(1 for _, code, _, _ in items if code == chosen)


def test_a_renamed_unit_shows_its_new_name() -> None:
    env = environment()
    before = env.from_string(FILTER).render(items=UNITS, chosen="")
    renamed = [(1, "avd-1", "Avdelning Norr", "area"), *UNITS[1:]]
    after = env.from_string(FILTER).render(items=renamed, chosen="")
    assert "Avdelning Norr" in after
    assert "Avdelning 1" not in after
    assert before != after
