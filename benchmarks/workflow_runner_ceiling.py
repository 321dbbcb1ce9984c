"""What a workflow runner of our own could save: the SDK's workflow instance against a
minimal one, both running the Python twin of the one-activity workflow.

The Lua driver runs inside the SDK's Python workflow instance (`UnsandboxedWorkflowRunner`):
an asyncio event loop per run, the interceptor chains, the command bookkeeping. A
`WorkflowRunner` of our own, turning activations into Lua wakes and Lua's commands into the
completion directly, was the lever left untried for `workflow_throughput` (docs/performance.md,
"What is left" under Workflows). Before writing one, this measures its ceiling: the same
twin workflow served by the SDK's instance and by `MinimalInstance`, which knows nothing but
this workflow and builds its two commands by hand (no event loop, no coroutine, no
interceptor, no converter chain). Whatever a runner of ours could remove from a workflow's
worker CPU is at most the difference. Both workers poll the same server from this process,
their rounds alternating (`harness.alternating_rounds`).

Not part of `python -m benchmarks all`; run `python -m benchmarks.workflow_runner_ceiling`.
Prints the medians of the rounds' CPU per workflow of each side and their ratio.
"""

from __future__ import annotations

import statistics
from typing import Any

import anyio
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import (
    SerializationContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
)
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.workflow import Info, _Definition

from benchmarks.harness import alternating_rounds, report
from benchmarks.workflow_app import SAME_OPTIONS, forward_core_logs, native_worker
from benchmarks.workflow_throughput import CONCURRENCY, WARM_UP, WORKFLOWS, rate
from temporal_host.embedded import EmbeddedServer

ROUNDS = 9
SDK_QUEUE = "ceiling-sdk"
MINIMAL_QUEUE = "ceiling-minimal"


class MinimalInstance(WorkflowInstance):
    """The twin `OneActivity` (schedule `double(n)`, complete with its result) and nothing
    else: an activation it does not know fails the workflow task, so a run it cannot serve
    shows as a failure rather than as a fast wrong answer."""

    def __init__(self, det: WorkflowInstanceDetails) -> None:
        self.info = det.info
        self.converter = det.payload_converter_factory()

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        completion = WorkflowActivationCompletion(run_id=act.run_id)
        if self.info.workflow_type != "OneActivity":
            completion.failed.failure.message = "MinimalInstance serves OneActivity only"
            return completion
        commands = completion.successful.commands
        completion.successful.SetInParent()
        for job in act.jobs:
            kind = job.WhichOneof("variant")
            if kind == "initialize_workflow":
                n = self.converter.from_payload(job.initialize_workflow.arguments[0])
                schedule = commands.add().schedule_activity
                schedule.seq, schedule.activity_id, schedule.activity_type = 1, "1", "double"
                schedule.task_queue = self.info.task_queue
                schedule.arguments.append(self.converter.to_payload(n))
                schedule.start_to_close_timeout.FromTimedelta(
                    SAME_OPTIONS["start_to_close_timeout"]
                )
                schedule.heartbeat_timeout.FromTimedelta(SAME_OPTIONS["heartbeat_timeout"])
                SAME_OPTIONS["retry_policy"].apply_to_proto(schedule.retry_policy)
            elif kind == "resolve_activity":
                result = job.resolve_activity.result.completed.result
                commands.add().complete_workflow_execution.result.CopyFrom(result)
            elif kind != "remove_from_cache":
                completion.failed.failure.message = f"MinimalInstance cannot serve {kind}"
        return completion

    def get_serialization_context(self, command_info: Any) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info: Any) -> StorageDriverStoreContext:
        info = self.info
        return StorageDriverStoreContext(
            target=StorageDriverWorkflowInfo(
                id=info.workflow_id,
                run_id=info.run_id,
                type=info.workflow_type,
                namespace=info.namespace,
            )
        )

    def get_info(self) -> Info:
        return self.info


class MinimalRunner(WorkflowRunner):
    def prepare_workflow(self, defn: _Definition) -> None:
        pass

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return MinimalInstance(det)


async def measure() -> list[dict[str, tuple[float, float]]]:
    """Per round, per side: (workflows per second, CPU ms per workflow)."""
    forward_core_logs()
    async with (
        EmbeddedServer() as server,
        native_worker(server.address, SDK_QUEUE) as client,
        native_worker(server.address, MINIMAL_QUEUE, MinimalRunner()),
    ):
        queues = {"sdk": SDK_QUEUE, "minimal": MINIMAL_QUEUE}
        for queue in queues.values():
            await rate(client, "OneActivity", queue, WARM_UP)
        sides = {
            name: (lambda queue=queue: rate(client, "OneActivity", queue, WORKFLOWS))
            for name, queue in queues.items()
        }
        return await alternating_rounds(ROUNDS, sides)


def main() -> None:
    rounds = anyio.run(measure)
    name = "workflow_runner_ceiling"
    report(name, "sdk_cpu_ms_per_workflow", statistics.median(r["sdk"][1] for r in rounds))
    report(name, "minimal_cpu_ms_per_workflow", statistics.median(r["minimal"][1] for r in rounds))
    ratio = statistics.median(r["minimal"][1] / r["sdk"][1] for r in rounds)
    report(name, "minimal_over_sdk_cpu_ratio", ratio)
    print(f"({ROUNDS} rounds of {WORKFLOWS} workflows a side at concurrency {CONCURRENCY})")


if __name__ == "__main__":
    main()
