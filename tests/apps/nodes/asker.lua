-- Asks `target` for `n` parts `rounds` times; returns the parts in the order they came.
local function main(target, rounds, n)
  local inbox = process.inbox()
  local got = {}
  for _ = 1, rounds do
    process.send(target, "ask", n)
    for _ = 1, n do got[#got + 1] = inbox:receive():payload():data() end
  end
  process.send(target, "stop")
  return got
end
return {main = main}
