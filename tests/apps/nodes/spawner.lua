-- Spawns `n` monitored children on `host` (another node's), one at a time; each says hello
-- and exits: returns what the children sent and the values their EXITs carried.
local function main(host, n)
  local inbox, events = process.inbox(), process.events()
  local hellos, results = {}, {}
  for i = 1, n do
    local pid, err = process.spawn_monitored("nodes:child", host, process.pid(), i)
    if err then error(err) end
    local msg = inbox:receive()
    hellos[i] = msg:payload():data().n
    local event = events:receive()
    assert(event.from == pid, "EXIT from " .. tostring(event.from) .. " not " .. pid)
    results[i] = event.result.value
  end
  return {hellos = hellos, results = results}
end
return {main = main}
