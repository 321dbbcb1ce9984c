"""The recorded checkout history (`actors test shop --record histories`) must replay
against the current code: a change that would break checkouts in flight fails here."""

from __future__ import annotations

from pathlib import Path

from actors.testing import replay

PROJECT = Path(__file__).parents[1]


def test_recorded_histories_replay() -> None:
    histories = sorted((PROJECT / "histories").glob("*.json"))
    assert histories, "record some: actors test shop --record histories"
    for result in replay(PROJECT / "shop", histories):
        assert result.ok
        assert result.outcome == result.recorded_outcome  # the code computed the same total
