-- Small assertion helpers shared by the tests (an imported library).
local A = {}

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function A.eq(actual, expected, what)
  if actual ~= expected then
    error((what or "value") .. ": expected " .. show(expected) .. ", got " .. show(actual), 2)
  end
end

function A.ok(cond, what)
  if not cond then error((what or "condition") .. " failed", 2) end
end

function A.contains(s, part, what)
  if type(s) ~= "string" and type(s) ~= "userdata" then
    error((what or "value") .. ": expected text containing " .. show(part) .. ", got " .. show(s), 2)
  end
  if not string.find(tostring(s), part, 1, true) then
    error((what or "value") .. ": " .. show(tostring(s)) .. " does not contain " .. show(part), 2)
  end
end

-- Runs every function of `cases` in name order; the first failure fails the test.
function A.run(cases)
  local names = {}
  for name in pairs(cases) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local ok, err = pcall(cases[name])
    if not ok then error(name .. ": " .. tostring(err), 0) end
  end
  return true
end

return A
