-- A Lua test: spawn the cart, talk to it, check what it says. Any error fails the test.
local function run()
  local cart = process.spawn_monitored("shop:cart", "shop:processes")
  process.send(cart, "add", {item = "apple", price = 3})
  process.send(cart, "add", {item = "bread", price = 5})
  process.send(cart, "total")
  local reply = process.inbox():receive()
  assert(reply:payload():data() == 8, "the cart should total 8")

  process.send(cart, "stop")
  local exit = process.events():receive()
  assert(exit.result.value == 8, "the cart ends with its total")
  return true
end

return {run = run}
