-- Waits for CANCEL and returns the reason it was given, cleaning up normally.
local function main(reply_to)
  process.send(reply_to, "ready", true)
  local event = process.events():receive()
  if event.kind ~= process.event.CANCEL then return nil, "expected CANCEL, got " .. event.kind end
  return {reason = event.reason, from = event.from}
end
return {main = main}
