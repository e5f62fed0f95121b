-- wrk script: GET /v2/calls/{id} with ids from the file named by $IDS_FILE (one id a line).
--   PICK=random (default): an id drawn at random per request;
--   PICK=N: always the N-th id (1-based), the one-id baseline.
-- Every request's bytes are built once, in init (a thread's Lua state, after wrk has set the Host
-- header). Per request both modes draw the same random number, read that entry of the same table
-- (its slot and its string: cold memory in a table of 100,000) and hand wrk a string that already
-- exists, so the client's own work, cache misses included, is the same in both, and the comparison
-- measures the server.
-- (Built per request, the random mode paid the client a fresh string each time, which LuaJIT
-- hashes, interns and later collects, where the one-id mode found its one string interned: with
-- one wrk thread that cost the client 23.3 us of CPU a request against 18.4 us, and made the
-- random mode look ~20% slower whatever the server did.)
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do
  ids[#ids + 1] = line
end
assert(#ids > 0, "no ids in " .. tostring(os.getenv("IDS_FILE")))
local fixed = tonumber(os.getenv("PICK") or "")
math.randomseed(12345)

local requests = {}
local touched = 0

init = function()
  local headers = { ["Authorization"] = "Bearer bench-token" }
  for i, id in ipairs(ids) do
    requests[i] = wrk.format("GET", "/v2/calls/" .. id, headers)
  end
end

request = function()
  local req = requests[math.random(#requests)]
  touched = touched + #req
  if fixed then
    req = requests[fixed]
  end
  return req
end
