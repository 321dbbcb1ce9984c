local fs = require("fs")

local function main()
    local vol, err = fs.get("tour:files")
    if err then return nil, err end

    if not vol:exists("/notes") then assert(vol:mkdir("/notes")) end
    assert(vol:writefile("/notes/todo.txt", "write docs\n"))
    assert(vol:writefile("/notes/todo.txt", "run tests\n", "a"))

    local file = assert(vol:open("/notes/todo.txt", "r"))
    local scanner = file:scanner("lines")
    local lines = {}
    while scanner:scan() do lines[#lines + 1] = scanner:text() end
    file:close()
    assert(lines[2] == "run tests")

    for entry in vol:readdir("/notes") do
        assert(entry.name == "todo.txt" and entry.type == fs.type.FILE)
    end

    -- nothing outside the directory can be reached
    local _, escape = vol:readfile("../../etc/passwd")
    assert(escape:kind() == errors.PERMISSION_DENIED)

    assert(vol:remove("/notes/todo.txt"))
    assert(vol:remove("/notes"))
    return #lines
end

return {main = main}
