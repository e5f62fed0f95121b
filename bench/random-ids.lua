-- wrk script: GET /v2/calls/{id} with an id drawn at random from the file named by $IDS_FILE
-- (one id a line). A file with one line gives the one-id baseline through the same code path.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do
  ids[#ids + 1] = line
end
assert(#ids > 0, "no ids in " .. tostring(os.getenv("IDS_FILE")))
math.randomseed(12345)

local headers = { ["Authorization"] = "Bearer bench-token" }

request = function()
  return wrk.format("GET", "/v2/calls/" .. ids[math.random(#ids)], headers)
end
