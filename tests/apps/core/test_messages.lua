local A = require("assert")
local HOST = "core:processes"

local cases = {}

function cases.routing_listen_then_inbox()
  local me = process.pid()
  local a = process.listen("a")
  process.send(me, "a", 1)
  process.send(me, "a", 2)
  process.send(me, "b", 3)
  A.eq(a:receive(), 1, "first on a")
  A.eq(a:receive(), 2, "second on a")
  local msg = process.inbox():receive()
  A.eq(msg:topic(), "b", "inbox topic")
  A.eq(msg:payload():data(), 3, "inbox value")
  A.eq(msg:from(), me, "sender")
  process.unlisten(a)
end

function cases.value_shapes()
  local me = process.pid()
  local ch = process.listen("shape")
  process.send(me, "shape")
  process.send(me, "shape", "one")
  process.send(me, "shape", 1, 2.5, "x")
  A.eq(ch:receive(), nil, "no value")
  A.eq(ch:receive(), "one", "one value")
  local many = ch:receive()
  A.eq(#many, 3, "array length")
  A.eq(math.type(many[1]), "integer", "integer kept")
  A.eq(math.type(many[2]), "float", "float kept")
  process.unlisten(ch)
end

function cases.per_sender_order()
  local echo = process.spawn("core:echo", HOST)
  local replies = process.listen("re:n")
  for i = 1, 200 do process.send(echo, "n", i) end
  for i = 1, 200 do A.eq(replies:receive(), i, "reply " .. i) end
  process.send(echo, "stop")
  process.unlisten(replies)
end

function cases.pending_until_listen()
  local me = process.pid()
  process.send(me, "late", "kept")
  -- nobody listens to "late" and the inbox is open: it went to the inbox
  local msg = process.inbox():receive()
  A.eq(msg:topic(), "late")
  A.eq(msg:payload():data(), "kept")
end

function cases.message_listener_objects()
  local me = process.pid()
  local ch = process.listen("obj", {message = true})
  process.send(me, "obj", {k = "v"})
  local msg = ch:receive()
  A.eq(msg:topic(), "obj")
  A.eq(msg:from(), me)
  A.eq(msg:payload():data().k, "v")
  A.eq(msg.approved, nil, "messages expose methods only, no data fields")
  process.unlisten(ch)
end

function cases.payload_resend_sends_data()
  local me = process.pid()
  local ch = process.listen("p")
  process.send(me, "p", {n = 1})
  local raw = ch:receive()
  process.send(me, "p", payload.new(raw))
  A.eq(ch:receive().n, 1, "payload travels as its data")
  process.unlisten(ch)
end

function cases.send_errors()
  local ok, err = process.send("{core:processes|0xfffff}", "x", 1)
  A.eq(ok, nil)
  A.contains(err, "not found")
  A.eq(err:kind(), errors.NOT_FOUND)
  ok, err = process.send("nobody-has-this-name", "x")
  A.eq(ok, nil)
  A.contains(err:message(), "could not resolve: nobody-has-this-name")
  ok, err = process.send(process.pid(), "@exit", 1)
  A.eq(err:kind(), errors.INVALID)
  A.contains(err, "cannot send to @ topics")
  ok, err = process.send(process.pid(), "", 1)
  A.contains(err, "topic cannot be empty")
  local raised, lerr = pcall(process.listen, "@events")
  A.eq(raised, false)
  A.contains(lerr, "cannot listen to @ topics")
end

function cases.values_that_cannot_cross()
  local ok, err = process.send(process.pid(), "f", function() end)
  A.eq(ok, nil)
  A.eq(err:kind(), errors.INVALID)
  A.contains(err, "function cannot be sent")
  ok, err = process.send(process.pid(), "c", {ch = channel.new()})
  A.contains(err, "channel cannot be sent")
  local cyclic = {}
  cyclic.self = cyclic
  ok, err = process.send(process.pid(), "c", cyclic)
  A.contains(err, "cycle")
end

function cases.startup_messages_first()
  local me = process.pid()
  local replies = process.listen("re:m")
  local echo = process.with_options({}):with_message("m", 1):with_message("m", 2)
    :spawn("core:echo", HOST)
  process.send(echo, "m", 3)
  A.eq(replies:receive(), 1)
  A.eq(replies:receive(), 2)
  A.eq(replies:receive(), 3)
  process.send(echo, "stop")
  process.unlisten(replies)
end

function run()
  return A.run(cases)
end

return {run = run}
