-- The price list, as an activity: an unknown item is an error the workflow sees.
local PRICES = {apple = 3, bread = 5, cheese = 12}

local function price(item)
  local cents = PRICES[item]
  if cents == nil then
    return nil, errors.new({message = "no such item: " .. tostring(item), kind = errors.NOT_FOUND})
  end
  return cents
end

return {price = price}
