-- Replies to every message with the same topic prefixed "re:", until "stop".
local function main()
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    if msg:topic() == "stop" then return "stopped" end
    process.send(msg:from(), "re:" .. msg:topic(), msg:payload():data())
  end
end
return {main = main}
