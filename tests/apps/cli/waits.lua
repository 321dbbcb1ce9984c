-- `actors run APP cli:waits`: waits for CANCEL on the terminal host and says so.
local function main()
  print("waits up")
  local event = process.events():receive()
  print("waits got " .. event.kind)
  return true
end
return {main = main}
