"""The Python API in one run: a Python process, a Lua process and a workflow, by PID.

    .venv/bin/python examples/python_api/main.py

`inventory` is a Python process. The Lua process `shop:clerk` reserves items from it by
PID and starts the workflow `shop:shipment`, which tells the inventory, again by PID, what
it shipped. docs/guide/python-api.md walks through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio

import actors

APP = Path(__file__).parent


async def inventory(process: actors.Process, stock: dict[str, int]) -> dict[str, Any]:
    """Reserves items from `stock`; on "stop", returns what is left and what shipped."""
    shipped: list[str] = []
    while True:
        message = await process.receive()
        if message.topic == "reserve":
            item = message.payload
            ok = stock.get(item, 0) > 0
            if ok:
                stock[item] -= 1
            await process.send(message.sender, "reserved", {"item": item, "ok": ok})
        elif message.topic == "shipped":
            shipped.extend(message.payload)
        elif message.topic == "stop":
            return {"stock": stock, "shipped": shipped}


async def stop_and_report(process: actors.Process, target: actors.PID) -> Any:
    """Monitors `target`, asks it to stop, and returns the value it exits with."""
    await process.monitor(target)
    await process.send(target, "stop")
    event = await process.next_event()
    if event.error is not None:
        raise actors.ActorError.of(event.error)
    return event.value


async def main() -> None:
    # ephemeral: the embedded Temporal server keeps its state in memory for this run.
    async with actors.App(APP, ephemeral=True) as app:
        stock = await app.spawn(inventory, {"book": 1, "pen": 2})
        order = {"items": ["book", "pen", "book"], "inventory": stock}
        receipt = await app.run("shop:clerk", order, timeout=60)
        print(f"clerk: shipped {receipt['shipped']}, missing {receipt['missing']}")
        report = await app.run(stop_and_report, stock, timeout=10)
        print(f"inventory: left {report['stock']}, heard shipped {report['shipped']}")


if __name__ == "__main__":
    anyio.run(main)
