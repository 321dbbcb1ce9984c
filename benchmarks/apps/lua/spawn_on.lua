-- Spawns `n` monitored children on `host` (another node's, for node_spawn), awaiting each EXIT.
local function main(host, n)
  local events = process.events()
  for _ = 1, n do
    local _, err = process.spawn_monitored("bench:child", host)
    if err then error(err) end
    events:receive()
  end
  return n
end
return {main = main}
