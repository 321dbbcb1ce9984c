"""`python -m benchmarks NAME [NAME...]` (or `all`): each prints `name metric value`."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "py_pingpong": "benchmarks.py_pingpong",
    "py_spawn": "benchmarks.py_spawn",
    "lua_pingpong": "benchmarks.lua_pingpong",
    "lua_spawn": "benchmarks.lua_spawn",
    "lua_fanout": "benchmarks.lua_fanout",
    "lua_idle_memory": "benchmarks.lua_idle_memory",
    "lua_crowd": "benchmarks.lua_crowd",
    "node_pingpong": "benchmarks.node_pingpong",
    "node_spawn": "benchmarks.node_spawn",
    "lua_timer_latency": "benchmarks.lua_timer_latency",
    "lupa_ceiling": "benchmarks.lupa_ceiling",
    "workflow_throughput": "benchmarks.workflow_throughput",
    "workflow_replay": "benchmarks.workflow_replay",
    "http_throughput": "benchmarks.http_throughput",
    "sql_insert": "benchmarks.sql_insert",
}


def main(argv: list[str]) -> int:
    names = list(BENCHMARKS) if argv in ([], ["all"]) else argv
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        importlib.import_module(BENCHMARKS[name]).main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
