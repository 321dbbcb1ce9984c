-- Child workflows (seed: "Дочерние workflow").
local M = {}

function M.child(input)
    local ctx = require("ctx")
    return {hello = input and input.message, user = ctx.get("user_id")}
end

function M.error_child()
    return nil, errors.new({kind = errors.NOT_FOUND, message = "no such thing", retryable = false,
                            details = {what = "thing"}})
end

function M.greeted_child()
    local msg = process.listen("greet", {message = true}):receive()
    return {value = msg:payload():data(), from = msg:from()}
end

function M.slow_child()
    local time = require("time")
    time.sleep("30s")
    return "late"
end

-- workflow.exec, process.exec and process.spawn + EXIT, with errors kept.
function M.parent(input)
    local workflow = require("workflow")
    local out = {}
    local result, err = workflow.exec("app:child_workflow", {message = "sync"})
    out.exec = result
    out.exec_err = err and tostring(err)

    local _, perr = process.exec("app:error_child_workflow", "app:worker")
    out.exec_error = {kind = perr:kind(), retryable = perr:retryable(), message = perr:message(),
                      what = perr:details().what}

    local events_ch = process.events()
    local child_pid, serr = process.spawn("app:child_workflow", "app:worker",
                                          {message = "hello from parent"})
    out.spawn_err = serr and tostring(serr)
    out.pid_shape = type(child_pid) == "string" and child_pid:sub(1, 1) == "{"
    local event = events_ch:receive()
    out.event = {kind = event.kind, from_child = event.from == child_pid,
                 value = event.result.value, error = event.result.error and tostring(event.result.error),
                 at_type = type(event.at)}

    process.spawn("app:error_child_workflow", "app:worker")
    local failed = events_ch:receive()
    local child_err = failed.result.error
    out.failed = {kind = child_err:kind(), retryable = child_err:retryable(),
                  message = child_err:message()}

    -- context travels to the child (and from there to its activities)
    local ctx_result = process.with_context({user_id = "user-7"}):exec("app:child_workflow", "", {message = "ctx"})
    out.ctx_child = ctx_result

    -- startup messages reach the child before anything else, from the parent
    local greeted = process.with_options({}):with_message("greet", {n = 1})
        :spawn("app:greeted_child_workflow", "app:worker")
    local greeting = events_ch:receive()
    out.greeted = {value = greeting.result.value.value,
                   from_parent = greeting.result.value.from == process.pid(),
                   from_child = greeting.from == greeted}

    local _, bad_exec = workflow.exec("nonsense")
    out.bad_exec = bad_exec:kind()

    -- a workflow can only spawn workflows
    local _, bad = process.spawn("app:charge_payment", "app:worker", {})
    out.not_a_workflow = bad and bad:kind()
    return out
end

-- Terminate a child from the workflow (a local activity through the client).
function M.terminator()
    local events_ch = process.events()
    local pid = process.with_options({["workflow.id"] = "terminated-child-" .. require("workflow").info().run_id})
        :spawn("app:slow_child_workflow", "app:worker")
    local ok, err = process.terminate(pid)
    local event = events_ch:receive()
    return {ok = ok, err = err and tostring(err), kind = event.result.error:kind(),
            message = event.result.error:message()}
end

return M
