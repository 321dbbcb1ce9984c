-- The benchmarked workflows.

-- One activity call: the unit of workflow_throughput (its Python twin is in the benchmark).
local function one_activity(n)
  return require("funcs").call("wfbench:double", n)
end

-- `count` activity calls in sequence: 6 history events each, for workflow_replay.
local function activity_loop(count)
  local funcs = require("funcs")
  local total = 0
  for i = 1, count do
    total = total + funcs.call("wfbench:double", i)
  end
  return total
end

return {one_activity = one_activity, activity_loop = activity_loop}
