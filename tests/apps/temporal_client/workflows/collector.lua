-- Records every message (topic, value, sender) until "finish"; a cancel request ends it
-- early with the reason.
local ctx = require("ctx")

local function main(input)
  local messages = {}
  local inbox, events = process.inbox(), process.events()
  while true do
    local r = channel.select({inbox:case_receive(), events:case_receive()})
    if r.channel == events then
      if r.value.kind == process.event.CANCEL then
        return {canceled = r.value.reason, messages = messages, input = input}
      end
    else
      local msg = r.value
      if msg:topic() == "finish" then break end
      table.insert(messages, {topic = msg:topic(), value = msg:payload():data(), from = msg:from()})
    end
  end
  return {messages = messages, input = input, context = ctx.all()}
end
return {main = main}
