-- The price list, as an activity: an unknown item is an error the workflow sees. It is
-- marked not retryable: asking again cannot make the item exist, and an error that does
-- not say is retried by the activity's retry policy (five attempts, 15 s of back-off).
local PRICES = {apple = 3, bread = 5, cheese = 12}

local function price(item)
  local cents = PRICES[item]
  if cents == nil then
    local message = "no such item: " .. tostring(item)
    return nil, errors.new({message = message, kind = errors.NOT_FOUND, retryable = false})
  end
  return cents
end

return {price = price}
