-- Answers every "hello" message with a greeting, until it gets "stop".
local function main()
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    if msg:topic() == "stop" then
      return "stopped"
    end
    local greeting = "Hello, " .. msg:payload():data() .. "!"
    process.send(msg:from(), "greeting", greeting)
  end
end

return {main = main}
