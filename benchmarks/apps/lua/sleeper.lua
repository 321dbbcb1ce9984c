-- Sleeps 1 ms `n` times; returns how late each wake-up was in microseconds, on the wall
-- clock and in CPU time of this Python process (os.clock): the second leaves out the time
-- the operating system gave to other programs, so it is the scheduler's own lateness.
local time = require("time")
local function main(n)
  local wall, cpu = {}, {}
  for i = 1, n do
    local t0, c0 = time.now(), os.clock()
    time.sleep("1ms")
    wall[i] = time.now():sub(t0):microseconds() - 1000
    cpu[i] = (os.clock() - c0) * 1e6 - 1000
  end
  return {wall = wall, cpu = cpu}
end
return {main = main}
