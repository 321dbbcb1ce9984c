-- The `workflow` module (temporal.md §13); workflow.py does the work.
local rt, py = ...
local await, export, pack, pcall = rt.await, rt.export, rt.pack, pcall

local workflow = {}
function workflow.info() return py.info() end
function workflow.exec(target, ...)
  local ok, args = pcall(export, pack(...))
  if not ok then return nil, args end
  return await(py.exec(target, args))
end
function workflow.version(change_id, min_supported, max_supported)
  return py.version(change_id, min_supported, max_supported)
end
function workflow.attrs(values) return await(py.attrs(values)) end
function workflow.history_length() return py.history_length() end
function workflow.history_size() return py.history_size() end
return workflow
