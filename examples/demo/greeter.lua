-- A durable workflow: waits for a "greet" message, answers its sender, returns a summary.
local function main(greeting)
  local msg = process.listen("greet", {message = true}):receive()
  local name = msg:payload():data()
  local reply = ("%s, %s!"):format(greeting, name)
  local ok, err = process.send(msg:from(), "reply", reply)
  return {greeted = name, reply = reply, delivered = ok == true, error = err and err:message()}
end

return {main = main}
