-- The `io` module (lua-api §3.5); io.py has the details. Arguments are converted with
-- `tostring` here, so numbers print as Lua prints them; reads go through rt.await.

local rt, py = ...
local await, tostring, type, select, pack, concat =
  rt.await, tostring, type, select, table.pack, table.concat

local function joined(sep, ...)
  local n = select("#", ...)
  if n == 1 then
    local v = ...
    return type(v) == "string" and v or tostring(v)
  end
  local parts = pack(...)
  for i = 1, n do
    local v = parts[i]
    parts[i] = type(v) == "string" and v or tostring(v)
  end
  return concat(parts, sep, 1, n)
end

local py_write, py_read, py_readline = py.write, py.read, py.readline

local io = {}

function io.write(...) return py_write("stdout", joined("", ...)) end
function io.print(...) return py_write("stdout", joined("\t", ...) .. "\n") end
function io.eprint(...) return py_write("stderr", joined("\t", ...) .. "\n") end
function io.flush() return py.flush() end
function io.raw(enable) return py.raw(enable) end
function io.args() return py.args() end
function io.read(n) return await(py_read(n)) end
function io.readline() return await(py_readline()) end

return io
