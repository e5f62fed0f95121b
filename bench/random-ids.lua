-- wrk script: GET /v2/calls/{id} with ids from the file named by $IDS_FILE (one id a line).
--   PICK=random (default): an id drawn at random per request;
--   PICK=N: always the N-th id (1-based), the one-id baseline.
-- The request paths are built once, at load. Per request both modes draw the same random number
-- and read that entry of the same table (its slot and its string: cold memory in a table of
-- 100,000), so the client's own work, cache misses included, is the same in both, and the
-- comparison measures the server. (Built per request, the random path cost the client a fresh
-- string and a lookup in Lua's string table that the one-id mode found warm: with one wrk
-- thread, that alone made the random mode ~20% slower.)
local paths = {}
for line in io.lines(os.getenv("IDS_FILE")) do
  paths[#paths + 1] = "/v2/calls/" .. line
end
assert(#paths > 0, "no ids in " .. tostring(os.getenv("IDS_FILE")))
local fixed = tonumber(os.getenv("PICK") or "")
math.randomseed(12345)

local headers = { ["Authorization"] = "Bearer bench-token" }
local touched = 0

request = function()
  local path = paths[math.random(#paths)]
  touched = touched + #path
  if fixed then
    path = paths[fixed]
  end
  return wrk.format("GET", path, headers)
end
