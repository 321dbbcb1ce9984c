"""examples/data_tour: the programs the data docs show, each run to success; and every docs
block that claims to be one of them is exactly its file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.lua_harness import run_entry

ROOT = Path(__file__).parents[2]
APP = ROOT / "examples" / "data_tour"
HOST = "tour:processes"
ENTRIES = {
    "tour:sql_basics": 2,
    "tour:sql_builder": 1,
    "tour:store_basics": True,
    "tour:env_basics": True,
    "tour:fs_basics": 2,
    "tour:hash_yaml": True,
}
MARKER = re.compile(r"<!-- snippet: app=examples/data_tour entry=(\S+) -->\n```lua\n(.*?)```", re.S)


@pytest.mark.anyio
@pytest.mark.parametrize("entry", sorted(ENTRIES))
async def test_tour_entry_runs(entry: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    event = await run_entry(APP, entry, host=HOST)
    assert event.error is None, event.error
    assert event.value == ENTRIES[entry]


def test_docs_blocks_are_the_tour_files() -> None:
    shown: dict[str, str] = {}
    for page in (ROOT / "docs").rglob("*.md"):
        for entry, block in MARKER.findall(page.read_text()):
            shown[entry] = block
            source = (APP / f"{entry.split(':')[1]}.lua").read_text()
            assert block == source, f"{page}: block for {entry} differs from its file"
    assert set(shown) == set(ENTRIES), "every tour program is shown in the docs"
