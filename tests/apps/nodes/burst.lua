-- Answers each "ask" with `n` messages, all sent in the one step the ask woke it for
-- (the first leaves at once, the rest are queued behind it), until "stop".
local function main()
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    if msg:topic() == "stop" then return true end
    local n = msg:payload():data()
    for i = 1, n do process.send(msg:from(), "part", i) end
  end
end
return {main = main}
