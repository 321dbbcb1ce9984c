-- Links to `target` without trapping, tells `reply_to` it is ready, then waits forever:
-- it can only end by a link cascade.
local function main(target, reply_to)
  local ok, err = process.link(target)
  if not ok then return nil, err end
  process.send(reply_to, "linked", true)
  process.inbox():receive()
  return "unreachable"
end
return {main = main}
