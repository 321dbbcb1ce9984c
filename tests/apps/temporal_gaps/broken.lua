local function main()
    return (
end

return {main = main}
