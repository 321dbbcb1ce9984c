-- A coroutine raises: the whole process fails with that error.
local function main()
  coroutine.spawn(function() error("crash in a spawned coroutine") end)
  process.inbox():receive()
  return "unreachable"
end
return {main = main}
