-- A puppet: obeys `cmd` messages from the property tests and reports everything it sees to
-- the observer. The protocol is described in actors/testing/puppets.py.

local function error_table(err)
  if err == nil then return nil end
  return {kind = err:kind(), message = err:message(), retryable = err:retryable(),
          details = err:details()}
end

local function event_report(ev)
  local result = ev.result or {}
  return {
    type = "event", kind = ev.kind, from = ev.from,
    error = error_table(result.error), value = result.value,
    reason = ev.kind == process.event.CANCEL and ev.reason or nil,
  }
end

local OPS = {
  link = process.link, unlink = process.unlink, monitor = process.monitor,
  unmonitor = process.unmonitor, terminate = process.terminate,
}

local function main(observer, label)
  local inbox, events = process.inbox(), process.events()
  local function report(item) process.send(observer, "report", item) end

  while true do
    local msg = inbox:receive()
    while #events > 0 do report(event_report(events:receive())) end
    if msg:topic() ~= "cmd" then
      report({type = "message", topic = msg:topic(), from = msg:from(),
              payload = msg:payload():data()})
    else
      local c = msg:payload():data()
      if c.op == "exit" then
        report({type = "reply", id = c.id, ok = true})
        if c.error then
          error(errors.new({kind = c.error.kind, message = c.error.message, retryable = false}))
        end
        return c.value
      end
      local ok, err = true, nil
      if OPS[c.op] then
        ok, err = OPS[c.op](c.target)
      elseif c.op == "cancel" then
        ok, err = process.cancel(c.target, c.reason or "")
      elseif c.op == "send" then
        for _, payload in ipairs(c.payloads) do
          ok, err = process.send(c.target, c.topic, payload)
          if not ok then break end
        end
      elseif c.op == "trap" then
        ok, err = process.set_options({trap_links = c.value})
      elseif c.op ~= "sync" then
        ok, err = nil, errors.new({kind = errors.INVALID, message = label .. ": unknown op " .. c.op})
      end
      report({type = "reply", id = c.id, ok = ok == true, error = error_table(err)})
    end
  end
end

return {main = main}
