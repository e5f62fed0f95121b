-- wrk script: GET /v2/calls/{id} with ids from the file named by $IDS_FILE (one id a line).
--   PICK=random (default): an id drawn at random per request;
--   PICK=N: always the N-th id (1-based), the one-id baseline.
-- Both modes load the same table and draw the same random number per request, so the client's own
-- cost (Lua heap and garbage collection grow with the table) is the same in both, and the
-- comparison measures the server.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do
  ids[#ids + 1] = line
end
assert(#ids > 0, "no ids in " .. tostring(os.getenv("IDS_FILE")))
local fixed = tonumber(os.getenv("PICK") or "")
math.randomseed(12345)

local headers = { ["Authorization"] = "Bearer bench-token" }

request = function()
  local i = math.random(#ids)
  if fixed then
    i = fixed
  end
  return wrk.format("GET", "/v2/calls/" .. ids[i], headers)
end
