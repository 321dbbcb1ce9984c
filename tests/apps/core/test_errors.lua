local A = require("assert")

local cases = {}

function cases.shape()
  local e = errors.new({message = "m", kind = errors.TIMEOUT, retryable = true, details = {a = 1}})
  A.eq(type(e), "userdata")
  A.eq(type(e.kind), "function")
  A.eq(e:kind(), "Timeout")
  A.eq(e:retryable(), true)
  A.eq(e:details().a, 1)
  A.eq(tostring(e), "m")
  A.eq("x" .. e, "xm")
  A.eq(e .. "y", "my")
  A.ok(string.find(e, "m") ~= nil)
  A.eq(string.format("%s", e), "m")
  A.ok(#e:stack() > 0, "stack is never empty")
end

function cases.forms()
  local plain = errors.new("just text")
  A.eq(plain:kind(), "")
  A.eq(plain:retryable(), nil)
  local two = errors.new("NotFound", "gone")
  A.eq(two:kind(), "NotFound")
  A.eq(two:message(), "gone")
  local wrapped = errors.wrap(two, "loading")
  A.eq(wrapped:message(), "gone")
  A.eq(wrapped:kind(), "NotFound")
  A.eq(tostring(wrapped), "loading: gone")
  A.ok(errors.is(wrapped, errors.NOT_FOUND))
  A.eq(errors.is("text", errors.NOT_FOUND), false)
end

function cases.raise_and_catch()
  local e = errors.new({message = "raised", kind = errors.CONFLICT})
  local ok, caught = pcall(error, e)
  A.eq(ok, false)
  A.ok(rawequal(caught, e) or caught == e, "the error object itself")
  A.eq(caught:kind(), "Conflict")
end

function cases.casts()
  A.eq(string("s"), "s")
  A.eq(integer(3.0), 3)
  A.eq(math.type(integer(3.0)), "integer")
  A.eq(number(2.5), 2.5)
  A.eq(boolean(false), false)
  local ok, err = pcall(function() return string(1) end)
  A.eq(ok, false)
  A.contains(err, "cannot cast number to string")
end

function cases.sandbox()
  A.eq(rawget(_G, "load"), nil, "no load")
  A.eq(rawget(_G, "dofile"), nil, "no dofile")
  A.eq(rawget(_G, "debug"), nil, "no debug")
  A.eq(rawget(_G, "package"), nil, "no package")
  A.eq(os.execute, nil, "no os.execute")
  local ok, err = pcall(require, "crypto")
  A.eq(ok, false)
  A.contains(err, 'module "crypto" is not allowed')
end

function run()
  return A.run(cases)
end

return {run = run}
