-- Spawns `n` idle processes from Lua (the kernel spawns them without Python records).
return {main = function(n)
  for _ = 1, n do process.spawn("bench:idle", "bench:processes") end
  return n
end}
