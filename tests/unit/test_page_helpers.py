"""Helpers templates use for markup: machine-readable times, plain and shortened text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kiosk.markdown import plain_text
from kiosk.templating import machine_datetime, shorten


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 3, 9, 45, 18, 890783, tzinfo=UTC),
        datetime(2026, 12, 3, 10, 45, 18, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 12, 3, 9, 45, 18, 890783),
    ],
)
def test_a_moment_is_written_in_utc_to_the_second(moment: datetime) -> None:
    assert machine_datetime(moment) == "2026-12-03T09:45:18Z"


def test_a_short_text_stays_as_it_is() -> None:
    assert shorten("  Becher\n aus   Steinzeug ") == "Becher aus Steinzeug"
    assert shorten("x" * 155) == "x" * 155


def test_a_long_text_is_cut_after_a_whole_word() -> None:
    assert shorten("Becher aus Steinzeug, weiß", 20) == "Becher aus…"
    assert shorten("Becher aus Steinzeug weiß", 21) == "Becher aus Steinzeug…"
    assert shorten("Donaudampfschifffahrt", 10) == "Donaudamp…"


def test_plain_text_keeps_the_words_of_markdown() -> None:
    source = (
        "## Maße\n\n**Steinzeug**, `300 ml`\n\n- spülfest\n- <b>roh</b>\n\n"
        "```\ncode\n```\n![Bild](x.png)"
    )
    assert plain_text(source) == "Maße Steinzeug, 300 ml spülfest <b>roh</b>"
