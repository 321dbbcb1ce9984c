-- The service: holds a total under the cluster-wide name "counter" and answers every "add"
-- with the new total, whichever node (or workflow) the sender lives on.
local function main()
  local ok, err = process.registry.register("counter", nil, process.registry.CONSISTENT)
  if not ok then error(err) end
  local total = 0
  local inbox, events = process.inbox(), process.events()
  while true do
    local r = channel.select({inbox:case_receive(), events:case_receive()})
    if r.channel == events then
      if r.value.kind == process.event.CANCEL then return total end
    else
      local msg = r.value
      total = total + msg:payload():data()
      process.send(msg:from(), "total", total)
    end
  end
end

return {main = main}
