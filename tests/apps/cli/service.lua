-- Served by `actors run`: says it is up, then waits for CANCEL and says so before ending.
local function main()
  print("service up")
  local event = process.events():receive()
  print("service got " .. event.kind)
  return true
end
return {main = main}
