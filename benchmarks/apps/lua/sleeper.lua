-- Sleeps 1 ms `n` times and returns how late each wake-up was, in microseconds.
local time = require("time")
local function main(n)
  local late = {}
  for i = 1, n do
    local t0 = time.now()
    time.sleep("1ms")
    late[i] = time.now():sub(t0):microseconds() - 1000
  end
  return late
end
return {main = main}
