-- Returns its argument; {fail = {kind = ..., message = ...}} fails the workflow instead.
local function main(arg)
  if type(arg) == "table" and arg.fail then
    return nil, errors.new({kind = arg.fail.kind, message = arg.fail.message, retryable = false})
  end
  return arg
end
return {main = main}
