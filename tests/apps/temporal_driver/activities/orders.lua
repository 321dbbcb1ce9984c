-- Activities of the order workflow.
local M = {}

function M.charge(req)
    if req.amount <= 0 then
        return nil, errors.new({kind = errors.INVALID, message = "nothing to charge", retryable = false})
    end
    return {id = "pay-" .. req.customer, amount = req.amount}
end

function M.ship(req)
    if req.address == nil then
        return nil, errors.new({kind = errors.INVALID, message = "no address", retryable = false})
    end
    return {tracking_number = "TRK-" .. req.order_id}
end

function M.refund(payment_id)
    return {refunded = payment_id}
end

return M
