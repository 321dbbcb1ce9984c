-- Spawns `n` idle processes on `host` (default bench:processes) from Lua: the kernel spawns
-- them without Python records when the host is its own.
return {main = function(n, host)
  host = host or "bench:processes"
  for _ = 1, n do process.spawn("bench:idle", host) end
  return n
end}
