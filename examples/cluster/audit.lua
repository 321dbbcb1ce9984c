-- A durable workflow between the nodes: adds 10 to the counter (by its cluster name, on node
-- a) and tells the client (a local process on node b) the new total.
local function main(client)
  process.send("counter", "add", 10)
  local total = process.listen("total"):receive()
  process.send(client, "audited", total)
  return total
end

return {main = main}
