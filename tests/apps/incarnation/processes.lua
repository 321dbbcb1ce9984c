local M = {}

-- Asks the keeper to hold a secret, waits for the acknowledgement, and exits.
function M.requester(keeper)
  local ok, err = process.send(keeper, "request", "keep it for me")
  if not ok then error(err) end
  return process.inbox():receive():payload():data()
end

-- Reports the first message it gets: the test sends "done" once the keeper has replied.
function M.bystander()
  local msg = process.inbox():receive()
  return {topic = msg:topic(), value = msg:payload():data()}
end

return M
