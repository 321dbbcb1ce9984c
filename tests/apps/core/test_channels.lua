local A = require("assert")

local cases = {}

function cases.identity()
  A.ok(rawequal(process.inbox(), process.inbox()), "inbox identity")
  A.ok(rawequal(process.events(), process.events()), "events identity")
  A.ok(rawequal(process.listen("x"), process.listen("x")), "listen identity")
  process.unlisten(process.listen("x"))
end

function cases.unbuffered_rendezvous()
  local ch = channel.new()
  local order = {}
  coroutine.spawn(function()
    for i = 1, 3 do ch:send(i); order[#order + 1] = "sent" .. i end
    ch:close()
  end)
  local got = {}
  while true do
    local v, ok = ch:receive()
    if not ok then break end
    got[#got + 1] = v
  end
  A.eq(#got, 3)
  A.eq(got[3], 3)
end

function cases.buffered_and_close()
  local ch = channel.new(2)
  ch:send("a")
  ch:send("b")
  ch:close()
  A.eq(ch:receive(), "a")
  A.eq(ch:receive(), "b")
  local v, ok = ch:receive()
  A.eq(v, nil)
  A.eq(ok, false)
  local raised = pcall(ch.send, ch, "c")
  A.eq(raised, false, "send on closed channel raises")
end

function cases.select_first_ready_wins()
  local a, b = channel.new(1), channel.new(1)
  a:send(1)
  b:send(2)
  local r = channel.select({b:case_receive(), a:case_receive()})
  A.ok(rawequal(r.channel, b), "first case in order")
  A.eq(r.value, 2)
  local d = channel.select({channel.new():case_receive(), default = true})
  A.eq(d.default, true)
  A.eq(d.channel, nil)
end

function cases.select_waits_and_mixes_mailbox()
  local ch = channel.new()
  local inbox = process.inbox()
  coroutine.spawn(function() process.send(process.pid(), "wake", 9) end)
  local r = channel.select({ch:case_receive(), inbox:case_receive()})
  A.ok(rawequal(r.channel, inbox))
  A.eq(r.value:topic(), "wake")
  local out = channel.new()
  coroutine.spawn(function() A.eq(out:receive(), "sent") end)
  local s = channel.select({out:case_send("sent")})
  A.eq(s.ok, true)
  A.eq(s.value, "sent")
end

function cases.user_coroutines_pass_blocking_calls_through()
  local ch = channel.new()
  coroutine.spawn(function() ch:send("through") end)
  local co = coroutine.wrap(function()
    coroutine.yield("mine")
    return ch:receive()
  end)
  A.eq(co(), "mine")
  A.eq(co(), "through")
end

function cases.main_return_ends_other_coroutines()
  -- nothing to assert inside: the spawned loop below must not keep the function alive
  coroutine.spawn(function() channel.new():receive() end)
end

function run()
  return A.run(cases)
end

return {run = run}
