"""A fallback load generator (when `wrk` is not installed): `python -m benchmarks.http_load
URL SECONDS CONNECTIONS` keeps CONNECTIONS requests in flight on an httpx pool for SECONDS
and prints the requests per second."""

from __future__ import annotations

import sys
import time

import anyio
import httpx


async def generate(url: str, seconds: float, connections: int) -> float:
    done = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await client.get(url)
                response.raise_for_status()
                done += 1

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(connections):
                group.start_soon(worker)
        return done / (time.perf_counter() - started)


if __name__ == "__main__":
    url, seconds, connections = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    print(f"{anyio.run(generate, url, seconds, connections):.1f}")
