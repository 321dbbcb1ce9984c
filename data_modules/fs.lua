-- The `fs` module; fsdir.py has the path rules and lua_fs.py the details. A volume is a
-- table holding its entry id and working directory; files and scanners are tables around a
-- Python handle number (closed by Python when the process exits).

local rt, py = ...
local errors, setmetatable, type, tostring = rt.errors, setmetatable, type, tostring

local fs = {
  type = {FILE = "file", DIR = "directory"},
  seek = {SET = "set", CUR = "cur", END = "end"},
}

local V, F, SC = {}, {}, {}
local V_MT = {__index = V, __name = "fs"}
local F_MT = {__index = F, __name = "fs.file"}
local SC_MT = {__index = SC, __name = "fs.scanner"}
rt.UNSENDABLE[V_MT], rt.UNSENDABLE[F_MT], rt.UNSENDABLE[SC_MT] = "fs", "fs file", "fs scanner"

local call = py.call

function fs.get(name)
  local id, err = py.get(name)
  if id == nil then return nil, err end
  return setmetatable({id = id, cwd = "/"}, V_MT)
end

function V:pwd() return self.cwd end
function V:chdir(path)
  local cwd, err = call(self.id, "chdir", self.cwd, path)
  if cwd == nil then return false, err end
  self.cwd = cwd
  return true
end
function V:stat(path) return call(self.id, "stat", self.cwd, path) end
function V:exists(path)
  local ok, err = call(self.id, "exists", self.cwd, path)
  if ok == nil then return false, err end
  return ok
end
function V:isdir(path)
  local ok, err = call(self.id, "isdir", self.cwd, path)
  if ok == nil then return false, err end
  return ok
end
local function boolean(ok, err)
  if ok == nil then return false, err end
  return true
end
function V:mkdir(path) return boolean(call(self.id, "mkdir", self.cwd, path)) end
function V:remove(path) return boolean(call(self.id, "remove", self.cwd, path)) end
function V:readfile(path) return call(self.id, "readfile", self.cwd, path) end
function V:writefile(path, data, mode)
  return boolean(call(self.id, "writefile", self.cwd, path, data, mode))
end
function V:readdir(path)
  local entries, err = call(self.id, "readdir", self.cwd, path)
  if entries == nil then return nil, err end
  local i = 0
  return function()
    i = i + 1
    return entries[i]
  end, entries
end
function V:open(path, mode)
  local h, err = py.open(self.id, self.cwd, path, mode)
  if h == nil then return nil, err end
  return setmetatable({h = h, path = path}, F_MT)
end

function F:read(size) return py.read(self.h, size) end
function F:write(data) return boolean(py.write(self.h, data)) end
function F:seek(whence, offset) return py.seek(self.h, whence, offset or 0) end
function F:sync() return boolean(py.sync(self.h)) end
function F:stat() return py.fstat(self.h) end
function F:close() return boolean(py.close(self.h)) end
local SPLITS = {lines = true, words = true, bytes = true, runes = true}
function F:scanner(split)
  split = split or "lines"
  if not SPLITS[split] then
    return nil, errors.new({kind = errors.INVALID, retryable = false,
                            message = "invalid split type " .. tostring(split)})
  end
  return setmetatable({h = self.h, split = split, token = ""}, SC_MT)
end

function SC:scan()
  local token, err = py.scan(self.h, self.split)
  if token == nil then
    self.error = err and tostring(err) or nil
    return false
  end
  self.token = token
  return true
end
function SC:text() return self.token end
function SC:err() return self.error end

return fs
