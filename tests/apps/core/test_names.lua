local A = require("assert")
local HOST = "core:processes"

local cases = {}

function cases.register_lookup_unregister()
  local me = process.pid()
  A.eq(process.registry.register("core-test-name"), true)
  A.eq(process.registry.register("core-test-name"), true, "same PID again is fine")
  A.eq(process.registry.lookup("core-test-name"), me)
  process.send("core-test-name", "hello", 1)
  A.eq(process.inbox():receive():topic(), "hello")
  A.eq(process.registry.unregister("core-test-name"), true)
  A.eq(process.registry.unregister("core-test-name"), false)
  local pid, err = process.registry.lookup("core-test-name")
  A.eq(pid, nil)
  A.eq(err:kind(), errors.NOT_FOUND)
end

function cases.held_by_another()
  local other = process.spawn("core:waiter", HOST)
  A.eq(process.registry.register("core-held", other), true)
  local ok, err = process.registry.register("core-held")
  A.eq(ok, nil)
  A.eq(err:kind(), errors.ALREADY_EXISTS)
  process.terminate(other)
  local pid = process.registry.lookup("core-held")
  A.eq(pid, nil, "released when the owner exits")
end

function cases.with_name_registers_child()
  local child = process.with_options({}):with_name("core-child"):spawn("core:waiter", HOST)
  A.eq(process.registry.lookup("core-child"), child)
  local again, err = process.with_options({}):with_name("core-child"):spawn("core:waiter", HOST)
  A.eq(again, nil)
  A.eq(err:kind(), errors.ALREADY_EXISTS)
  process.send("core-child", "stop")
end

function run()
  return A.run(cases)
end

return {run = run}
