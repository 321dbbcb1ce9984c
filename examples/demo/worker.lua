-- Doubles numbers sent as "job" until it has done `jobs` of them, then fails on purpose.
local function main(jobs)
  local inbox = process.inbox()
  for _ = 1, jobs do
    local msg = inbox:receive()
    process.send(msg:from(), "done", msg:payload():data() * 2)
  end
  return nil, errors.new({kind = errors.INTERNAL, message = "worker gave up after its last job"})
end

return {main = main}
