-- Scenarios for the Temporal host, driven from a local process. Each takes {uid = ...} (unique
-- per test, used in workflow IDs) and returns what it observed; the Python test asserts.
local W, HOST = "tc:collector", "tc:worker"

local function exit_of(ev)
  local err = ev.result.error
  return {
    kind = ev.kind,
    from = ev.from,
    value = ev.result.value,
    err_kind = err and err:kind(),
    err_message = err and err:message(),
    err_retryable = err and err:retryable(),
  }
end

local function next_event() return exit_of(process.events():receive()) end

local function must(v, err)
  if err then error(err) end
  return v
end

local M = {}

function M.spawn_monitored()
  local pid = must(process.spawn_monitored("tc:echo", HOST, {value = 42}))
  local out = next_event()
  out.pid = pid
  return out
end

function M.spawn_failing()
  local pid = must(process.spawn_monitored("tc:echo", HOST,
    {fail = {kind = errors.NOT_FOUND, message = "no such order"}}))
  local out = next_event()
  out.pid = pid
  return out
end

function M.monitor_after()
  local pid = must(process.spawn("tc:echo", HOST, "later"))
  must(process.monitor(pid))
  local out = next_event()
  out.pid = pid
  return out
end

function M.with_name(a)
  local name = "named-" .. a.uid
  local first = must(process.with_options({}):with_name(name):with_message("m", 1)
    :spawn(W, HOST, {n = 1}))
  local second = must(process.with_options({}):with_name(name):with_message("m", 2)
    :spawn_monitored(W, HOST, {n = 2}))
  must(process.send(second, "finish"))
  local out = next_event()
  out.first, out.second = first, second
  return out
end

function M.explicit_id(a)
  local id = "order-" .. a.uid
  local pid = must(process.with_options({["temporal.workflow.id"] = id})
    :spawn_monitored("tc:echo", HOST, {id = id}))
  local out = next_event()
  out.pid, out.id = pid, id
  return out
end

function M.conflicts(a)
  local id = "conflict-" .. a.uid
  local function with(options)
    options["workflow.id"] = id
    return process.with_options(options)
  end
  local out = {}
  local first = must(with({}):spawn_monitored(W, HOST, {run = 1}))
  out.first = first
  local pid, err = with({["workflow.id_conflict_policy"] = "fail"}):spawn(W, HOST, {})
  out.fail = {pid = pid, kind = err and err:kind(), message = err and err:message(),
              retryable = err and err:retryable()}
  pid, err = with({["temporal.workflow.execution_error_when_already_started"] = true})
    :spawn(W, HOST, {})
  out.flag = {pid = pid, kind = err and err:kind()}
  out.existing = must(with({["workflow.id_conflict_policy"] = "use_existing"}):spawn(W, HOST, {}))
  out.replaced = must(with({["workflow.id_conflict_policy"] = "terminate_existing"})
    :spawn_monitored(W, HOST, {run = 2}))
  out.first_exit = next_event()
  must(process.send(out.replaced, "finish"))
  out.second_exit = next_event()
  return out
end

function M.startup_order()
  local pid = must(process.with_options({}):with_message("a", 1):with_message("b", {x = 2})
    :with_message("c", "three"):spawn_monitored(W, HOST, "input"))
  must(process.send(pid, "d", 4))
  must(process.send(pid, "finish"))
  local out = next_event()
  out.pid, out.me = pid, process.pid()
  return out
end

function M.with_context()
  local pid = must(process.with_context({user_id = "user-1", tenant = "tenant-1"})
    :with_message("hello", true):spawn_monitored(W, HOST))
  must(process.send(pid, "finish"))
  local out = next_event()
  out.pid = pid
  return out
end

function M.send_not_found(a)
  local out = {}
  local ok, err = process.send("{tc:temporal@tc:worker|missing-" .. a.uid .. "}", "x", 1)
  out.unknown = {ok = ok, kind = err and err:kind(), message = err and err:message(),
                 retryable = err and err:retryable()}
  local pid = must(process.spawn_monitored("tc:echo", HOST, 1))
  next_event()
  ok, err = process.send(pid, "x", 1)
  out.finished = {ok = ok, kind = err and err:kind(), message = err and err:message()}
  return out
end

function M.link_terminate()
  process.set_options({trap_links = true})
  local pid = must(process.spawn(W, HOST))
  must(process.link(pid))
  must(process.terminate(pid))
  local out = next_event()
  out.pid = pid
  return out
end

function M.link_success()
  process.set_options({trap_links = true})
  local pid = must(process.spawn_linked(W, HOST, "linked"))
  must(process.send(pid, "finish"))
  local out = next_event()
  out.pid = pid
  return out
end

-- Linked to a new workflow (without trap_links), reports its PID to `parent`, then either
-- waits forever (it can only end by a link cascade) or, with `crash`, fails at once.
function M.linked_victim(parent, crash)
  local pid = must(process.spawn_linked(W, HOST, "victim"))
  process.send(parent, "linked", pid)
  if crash then error("boom") end
  process.inbox():receive()
  return "unreachable"
end

function M.link_untrapped()
  local victim = must(process.spawn_monitored("tc:linked_victim", "tc:processes", process.pid()))
  local wf = process.listen("linked"):receive()
  must(process.terminate(wf))
  local out = next_event()
  out.victim, out.wf = victim, wf
  return out
end

-- A linked local process that fails leaves the workflow running.
function M.local_death()
  local victim = must(process.spawn_monitored("tc:linked_victim", "tc:processes", process.pid(),
    true))
  local wf = process.listen("linked"):receive()
  local victim_exit = next_event()
  must(process.monitor(wf))
  must(process.send(wf, "finish"))
  local out = next_event()
  out.victim, out.wf, out.victim_exit = victim, wf, victim_exit
  return out
end

-- After unmonitor / unlink nothing arrives, even though both workflows end at once.
function M.released()
  local time = require("time")
  process.set_options({trap_links = true})
  local monitored = must(process.spawn_monitored(W, HOST))
  local linked = must(process.spawn_linked(W, HOST))
  must(process.unmonitor(monitored))
  must(process.unlink(linked))
  must(process.send(monitored, "finish"))
  must(process.terminate(linked))
  local timeout = time.after("1500ms")
  local r = channel.select({process.events():case_receive(), timeout:case_receive()})
  if r.channel == timeout then return {got_event = false} end
  return {got_event = true, event = exit_of(r.value)}
end

function M.terminate()
  local pid = must(process.spawn_monitored(W, HOST))
  local ok = must(process.terminate(pid))
  local out = next_event()
  out.pid, out.ok = pid, ok
  return out
end

function M.cancel()
  local pid = must(process.spawn_monitored(W, HOST))
  local ok = must(process.cancel(pid, "stop now"))
  local out = next_event()
  out.pid, out.ok = pid, ok
  return out
end

function M.exec()
  local value, err = process.exec("tc:echo", HOST, {value = 7})
  local failed, ferr = process.exec("tc:echo", HOST, {fail = {kind = errors.INVALID, message = "bad"}})
  return {value = value, err = err and tostring(err), failed = failed,
          fail_kind = ferr and ferr:kind(), fail_message = ferr and ferr:message()}
end

function M.custom_type()
  return process.exec("tc:named", HOST)
end

-- The monitor follows the started run through continue-as-new to the final result.
function M.continue_as_new()
  local pid = must(process.spawn_monitored("tc:chain", HOST, 2))
  local out = next_event()
  out.pid = pid
  return out
end

-- Spawns that fail before anything reaches Temporal.
function M.bad_spawns()
  local function try(...)
    local pid, err = ...
    return {pid = pid, kind = err and err:kind(), message = err and err:message()}
  end
  return {
    option = try(process.with_options({["workflow.execution_timeout"] = true})
      :spawn("tc:echo", HOST)),
    not_workflow = try(process.spawn("tc:hello", HOST)),
    unknown = try(process.spawn("tc:nope", HOST)),
    client_host = try(process.spawn("tc:echo", "tc:temporal")),
  }
end

-- Processes watching workflows release their watches when they exit.
function M.watch_and_leave()
  local monitored = must(process.spawn_monitored(W, HOST))
  local linked = must(process.spawn_linked(W, HOST))
  return {monitored = monitored, linked = linked}
end

function M.hello() return "hello" end

-- Sends "finish" to a workflow PID given as a string (a public handle, §2.1).
function M.finish(a)
  return must(process.send(a.pid, "finish"))
end

return M
