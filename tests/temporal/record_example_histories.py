"""Re-record the golden histories of the guides' example workflows
(`tests/temporal/histories/examples/*.json`).

    .venv/bin/python -m tests.temporal.record_example_histories

`test_examples.py` replays them. Re-record only when an example's workflow changes on
purpose (see `record_histories.py`: never to make a failing replay pass). Each example is
booted through the public API with an in-memory dev server; the workflow runs to its end
and its history is saved with its id and type.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio

import actors

ROOT = Path(__file__).parents[2]
HISTORIES = Path(__file__).parent / "histories" / "examples"

EXAMPLES = {
    # file name: (example folder, workflow entry, its worker, a process it talks to)
    "hello_reminder": ("hello", "hello:reminder", "hello:worker", "hello:greeter"),
    "python_api_shipment": ("python_api", "shop:shipment", "shop:worker", None),
}


async def _sink(process: actors.Process) -> None:
    """Stands in for the inventory: takes what the shipment sends."""
    await process.receive()


async def record(name: str) -> None:
    folder, entry, worker, partner = EXAMPLES[name]
    async with actors.App(ROOT / "examples" / folder, ephemeral=True) as app:
        if partner is not None:
            other = await app.spawn(partner)
            request: dict[str, Any] = {"name": "replay", "greeter": other, "delay": "1s"}
        else:
            other = await app.spawn(_sink)
            request = {"items": ["book"], "inventory": other}
        pid = await app.spawn(entry, request)
        (await app.wait(pid, timeout=60)).result()
        host = app._live().node.host(worker)
        history = await host.connection.client.get_workflow_handle(pid.id).fetch_history()  # type: ignore[attr-defined]
    started = history.events[0].workflow_execution_started_event_attributes
    document = {
        "workflow_id": pid.id,
        "workflow_type": started.workflow_type.name,
        "history": json.loads(history.to_json()),
    }
    HISTORIES.mkdir(parents=True, exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n")
    print(f"recorded {name} ({len(history.events)} events)", file=sys.stderr)


async def main(names: list[str]) -> None:
    for name in names or list(EXAMPLES):
        await record(name)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:])
