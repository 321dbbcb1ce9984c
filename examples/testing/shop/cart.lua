-- A cart: `add` {item, price} adds to the total, `total` answers the sender with it, `stop`
-- ends the process with the total as its result.
local function main()
  local inbox = process.inbox()
  local total = 0
  while true do
    local msg = inbox:receive()
    local topic = msg:topic()
    if topic == "add" then
      total = total + msg:payload():data().price
    elseif topic == "total" then
      process.send(msg:from(), "total", total)
    elseif topic == "stop" then
      return total
    end
  end
end

return {main = main}
