-- Bounces one message `n` times off `target`; returns the count it got back.
local function main(target, n)
  local inbox = process.inbox()
  local got = 0
  for i = 1, n do
    process.send(target, "ping", i)
    inbox:receive()
    got = got + 1
  end
  process.send(target, "stop")
  return got
end
return {main = main}
