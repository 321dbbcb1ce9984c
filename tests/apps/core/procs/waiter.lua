-- Blocks on its inbox until told to stop; reports what it got to `reply_to`.
local function main(reply_to)
  local msg = process.inbox():receive()
  if reply_to then process.send(reply_to, "got", msg:topic()) end
  return msg:topic()
end
return {main = main}
