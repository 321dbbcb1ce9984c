"""Load-time checks of the store, env and fs entries (filled in with those kinds)."""

from __future__ import annotations

from collections.abc import Iterable

from actors.registry import Entry


def check(entry: Entry) -> Iterable[str]:
    return ()
