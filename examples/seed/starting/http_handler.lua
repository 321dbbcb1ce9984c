-- Seed: "Запуск workflow" → "Из HTTP-обработчиков", as written: the handler of
-- `POST /orders` on the `app:gateway` service (_index.yaml).
-- Completed: the `require`s of `http` and `json`, and the `return` exporting the handler.
local http = require("http")
local json = require("json")

local function handler()
    local req = http.request()
    local order = json.decode(req:body())

    local spawner = process
        .with_context({request_id = req:header("X-Request-ID")})
        :with_options({
            ["temporal.workflow.id"] = "order-" .. order.id,
            ["temporal.workflow.id_conflict_policy"] = "fail",
        })

    local pid, err = spawner:spawn(
        "app:order_workflow",
        "app:worker",
        order
    )

    if err then
        return http.response():status(409):json({error = tostring(err)})
    end

    return http.response():status(202):json({
        workflow_id = tostring(pid),
        status = "started"
    })
end

return { handler = handler }
