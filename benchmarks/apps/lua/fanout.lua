-- One of the `lua_fanout` processes. It is told its peers, which of them to send to (random
-- picks made by the benchmark) and how many messages to expect; on "go" it sends numbered
-- messages, receives until it has them all and checks that each sender's numbers arrived
-- in order.
local function main()
  local inbox = process.inbox()
  local go = process.listen("go")
  local plan = inbox:receive():payload():data()
  go:receive()
  local peers, me = plan.peers, process.pid()
  for i, target in ipairs(plan.targets) do
    process.send(peers[target], "m", {from = me, seq = i})
  end
  local last, got = {}, 0
  while got < plan.expected do
    local v = inbox:receive():payload():data()
    if (last[v.from] or 0) >= v.seq then error("out of order from " .. v.from) end
    last[v.from] = v.seq
    got = got + 1
  end
  return got
end
return {main = main}
