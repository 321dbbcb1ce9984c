-- `crypto` inside a workflow: the functions that draw secure random bytes park the caller
-- until the recorded bytes arrive (crypto.py); the others are the stock ones.
local rt, py = ...
local await, pairs = rt.await, pairs

local crypto = {}
for name, value in pairs(py) do crypto[name] = value end

local function drawing(f)
  return function(...) return await(f(...)) end
end
crypto.random = {}
for name, f in pairs(py.random) do crypto.random[name] = drawing(f) end
crypto.encrypt = {}
for name, f in pairs(py.encrypt) do crypto.encrypt[name] = drawing(f) end
-- The workflow description writes `crypto.random_bytes(n)`.
crypto.random_bytes = crypto.random.bytes
return crypto
