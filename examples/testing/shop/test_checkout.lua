-- A Lua test of the workflow: start it on the worker, monitored, and check its result.
local function run()
  local order = {customer = "ann", items = {"apple", "cheese"}}
  local pid, err = process.spawn_monitored("shop:checkout", "shop:worker", order)
  assert(pid, tostring(err))
  local exit = process.events():receive()
  assert(exit.result.error == nil, tostring(exit.result.error))
  assert(exit.result.value.total == 15, "apple and cheese cost 15")
  return true
end

return {run = run}
