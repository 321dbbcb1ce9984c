-- Holds a secret for whoever asks, and sends it to them when told to, however long after.
local function main()
  local inbox = process.inbox()
  local request = inbox:receive()
  local requester = request:from()
  process.send(requester, "ack", "holding it")
  inbox:receive() -- "release", sent by the test after the node restarted
  local ok, err = process.send(requester, "secret", "secret_for_requester")
  return {requester = requester, sent = ok == true, error_kind = err and err:kind() or nil}
end

return {main = main}
