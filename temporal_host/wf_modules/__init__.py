"""The Lua modules as workflows see them (temporal.md §6, §8, §13).

The same Lua module code serves processes and workflows (lua-api §17.1); what differs is the
Python half behind the yielded calls. This package holds those halves for the modules whose
behaviour changes inside a workflow (`process`, `funcs`, `uuid`, `crypto`, `logger`) and the
`workflow` module, which exists only here. Modules not overridden (`time`, `ctx`, `json`,
`payload`...) work unchanged because they take their clock and randomness from the module
contract (`host.time_source`, `host.random_bytes`), which the workflow host fills with
workflow time, durable timers and recorded randomness.

The module factories take a `WorkflowModuleHost` (`host.py`): the stock contract plus the
run, whose `commands` turn what reaches outside into Temporal commands.

`ALLOWED` is the allow-list of §8.2, enforced at `require` time by the workflow's Lua state:
anything else fails exactly like a module missing from the entry's `modules:` list.
"""

from __future__ import annotations

from lua_bindings.modules import LuaModule
from temporal_host.wf_modules import crypto, funcs, logger, process, uuid, workflow

ALLOWED = frozenset(
    {
        # workflow-aware
        "time",
        "os",
        "uuid",
        "crypto",
        "ctx",
        "funcs",
        "process",
        "workflow",
        "contract",
        "channel",
        "errors",
        "payload",
        # pure
        "json",
        "yaml",
        "base64",
        "hash",
        "text",
        "template",
        "expr",
        "expression",
        "compress",
        "html",
        "treesitter",
        # output suppressed during replay
        "logger",
    }
)

OVERRIDES: dict[str, LuaModule] = {
    module.MODULE.name: module.MODULE for module in (process, funcs, uuid, crypto, logger, workflow)
}
"""The module variants every workflow host uses instead of the stock ones."""
