-- Spawns `n` monitored children that exit at once, awaiting each EXIT.
local function main(n)
  local events = process.events()
  for _ = 1, n do
    process.spawn_monitored("bench:child", "bench:processes")
    events:receive()
  end
  return n
end
return {main = main}
