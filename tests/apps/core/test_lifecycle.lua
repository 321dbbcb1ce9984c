local A = require("assert")
local HOST = "core:processes"
local events = process.events()

local function next_event(kind, from)
  local ev = events:receive()
  if kind then A.eq(ev.kind, kind, "event kind") end
  if from then A.eq(ev.from, from, "event source") end
  return ev
end

local cases = {}

function cases.exit_with_value()
  local pid = process.spawn_monitored("core:ok", HOST, 21)
  local ev = next_event(process.event.EXIT, pid)
  A.eq(ev.result.value, 42)
  A.eq(ev.result.error, nil)
  A.eq(ev.error, nil, "no top-level error field")
  A.ok(ev.at ~= nil, "events carry a time")
end

function cases.exit_with_error()
  local pid = process.spawn_monitored("core:fail", HOST)
  local ev = next_event(process.event.EXIT, pid)
  local err = ev.result.error
  A.eq(type(err), "userdata")
  A.eq(err:kind(), errors.INVALID)
  A.eq(err:message(), "deliberate failure")
  A.eq(err:retryable(), false)
  A.eq(err:details().code, 7)
end

function cases.monitor_dead_pid_gives_exit()
  local ok = process.monitor("{core:processes|0xfffff}")
  A.eq(ok, true)
  local ev = next_event(process.event.EXIT, "{core:processes|0xfffff}")
  A.eq(ev.result.error:kind(), errors.NOT_FOUND)
end

function cases.unmonitor_stops_events()
  local pid = process.spawn_monitored("core:ok", HOST, 1, true)
  A.eq(process.unmonitor(pid), true)
  process.send(pid, "go")
  local later = process.spawn_monitored("core:ok", HOST, 2)
  local ev = next_event(process.event.EXIT)
  A.eq(ev.from, later, "only the still-monitored child reports")
end

function cases.terminate_is_abnormal()
  local pid = process.spawn_monitored("core:waiter", HOST)
  A.eq(process.terminate(pid), true)
  local ev = next_event(process.event.EXIT, pid)
  A.eq(ev.result.error:kind(), errors.CANCELED)
  A.eq(ev.result.error:message(), "process terminated")
  local ok, err = process.terminate(pid)
  A.eq(ok, nil)
  A.contains(err, "not found")
end

function cases.trap_links_gets_link_down()
  process.set_options({trap_links = true})
  local pid = process.spawn_linked("core:fail", HOST, true)
  process.send(pid, "go")
  local ev = next_event(process.event.LINK_DOWN, pid)
  A.eq(ev.result.error:message(), "deliberate failure")
  process.set_options({trap_links = false})
end

function cases.normal_exit_no_link_down()
  process.set_options({trap_links = true})
  local pid = process.spawn_linked_monitored("core:ok", HOST, 1)
  local ev = next_event(nil, pid)
  A.eq(ev.kind, process.event.EXIT, "EXIT but no LINK_DOWN")
  A.eq(#process.events(), 0, "nothing else queued")
  process.set_options({trap_links = false})
end

function cases.cascade_without_trap()
  -- linker links to a failing process and does not trap: it dies with it.
  local me = process.pid()
  local victim = process.spawn("core:fail", HOST, true)
  local linker = process.spawn_monitored("core:linker", HOST, victim, me)
  A.eq(process.listen("linked"):receive(), true)
  process.send(victim, "go")
  local ev = next_event(process.event.EXIT, linker)
  local err = ev.result.error
  A.eq(err:kind(), errors.CANCELED)
  A.contains(err:message(), "linked process failed: " .. victim)
  A.eq(err:details().cause, "deliberate failure")
end

function cases.link_dead_pid_fails()
  local ok, err = process.link("{core:processes|0xfffff}")
  A.eq(ok, nil)
  A.eq(err:kind(), errors.NOT_FOUND)
end

function cases.cancel_is_cooperative()
  local me = process.pid()
  local pid = process.spawn_monitored("core:canceller", HOST, me)
  A.eq(process.listen("ready"):receive(), true)
  A.eq(process.cancel(pid, "enough"), true)
  local ev = next_event(process.event.EXIT, pid)
  A.eq(ev.result.error, nil, "a cancelled process that returns exits normally")
  A.eq(ev.result.value.reason, "enough")
  A.eq(ev.result.value.from, me)
end

function cases.crash_in_spawned_coroutine_fails_process()
  local pid = process.spawn_monitored("core:spawns_crash", HOST)
  local ev = next_event(process.event.EXIT, pid)
  A.contains(ev.result.error:message(), "crash in a spawned coroutine")
end

function cases.exec_returns_result()
  local v, err = process.exec("core:ok", HOST, 5)
  A.eq(err, nil)
  A.eq(v, 10)
  local nothing, ferr = process.exec("core:fail", HOST)
  A.eq(nothing, nil)
  A.eq(ferr:kind(), errors.INVALID)
end

function cases.spawn_errors()
  local pid, err = process.spawn("core:nope", HOST)
  A.eq(pid, nil)
  A.eq(err:kind(), errors.NOT_FOUND)
  pid, err = process.spawn("core:ok", "core:nohost")
  A.eq(pid, nil)
  A.contains(err, "not found")
end

function cases.options()
  local opts = process.get_options()
  A.eq(opts.trap_links, false)
  local ok, err = process.set_options({nonsense = true})
  A.eq(ok, false)
  A.contains(err, "option nonsense is not supported")
  ok, err = process.set_options({trap_links = "yes"})
  A.eq(ok, false)
  A.contains(err, "trap_links must be a boolean")
end

function run()
  return A.run(cases)
end

return {run = run}
