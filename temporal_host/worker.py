"""Building the SDK worker of a `temporal.worker` entry (temporal.md §1.2, §17).

`build_worker` is the interface to the client side: it returns a configured, not yet
running `temporalio.worker.Worker` with the dynamic Lua workflow, the dynamic Lua activity,
the reserved local activities and the worker interceptors. The data converter comes with the
client (`protocol.DATA_CONVERTER`). The `worker_options` translation is `options.WorkerOptions`.
`LuaWorkflow` is declared `sandboxed=False`, so the SDK serves it with the worker's
`unsandboxed_workflow_runner`, left at its default (the `workflow_runner` argument serves
sandboxed workflows only, and there are none here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from temporalio.client import Client
from temporalio.worker import Interceptor, Replayer, Worker

from actors.runtime import AppRuntime
from temporal_host.activities import LuaActivities
from temporal_host.driver import LuaWorkflow
from temporal_host.interceptors import WippyInterceptor
from temporal_host.limits import HistoryLimits
from temporal_host.options import WorkerOptions
from temporal_host.protocol import DATA_CONVERTER
from temporal_host.search import SearchAttributes
from temporal_host.settings import WorkerSettings


def build_worker(
    client: Client,
    *,
    runtime: AppRuntime,
    client_id: str,
    worker_id: str,
    task_queue: str,
    worker_options: Mapping[str, Any],
    tq_prefix: str = "",
    search: SearchAttributes | None = None,
    history_limits: HistoryLimits | None = None,
    header_signing_key: str | None = None,
) -> Worker:
    """The worker of entry `worker_id` polling `task_queue` (already prefixed); `search`
    is the client's view of search attributes (a checking one is made when None)."""
    parsed = WorkerOptions.parse(worker_options)
    settings = WorkerSettings.create(
        runtime, client, client_id, worker_id, task_queue, parsed, tq_prefix
    )
    settings = attrs.evolve(
        settings,
        search=search or SearchAttributes(client, register=False),
        history_limits=history_limits or HistoryLimits(),
        header_signing_key=header_signing_key,
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[] if parsed.disable_workflow_worker else [LuaWorkflow],
        activities=LuaActivities(settings).definitions(),
        interceptors=[WippyInterceptor(settings)],
        **parsed.worker_arguments(),
    )


def build_replayer(
    settings: WorkerSettings,
    extra_interceptors: Sequence[Interceptor] = (),
    **kwargs: Any,
) -> Replayer:
    """A replayer with the same workflow, interceptors and data converter as the worker
    (`extra_interceptors` run inside ours: `actors.testing.replay` traces commands)."""
    return Replayer(
        workflows=[LuaWorkflow],
        interceptors=[WippyInterceptor(settings), *extra_interceptors],
        data_converter=DATA_CONVERTER,
        **kwargs,
    )
