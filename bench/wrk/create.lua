-- POST /api/v1/tenants with a fresh name per request (wrk's Lua, one state per thread).
-- Descriptions draw words from a small vocabulary so that list benchmarks can filter them.
local words = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
               "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"}
local counter = 0
-- A global, not a local: setup() sets it per thread with thread:set, which writes the thread's
-- globals (a local here shadowed it, so both threads sent the same names).
prefix = ""

function setup(thread)
  thread:set("prefix", tostring(math.random(1, 1e9)))
end


request = function()
  counter = counter + 1
  local a = words[(counter % #words) + 1]
  local b = words[((counter * 7) % #words) + 1]
  local body = string.format(
    '{"name":"Bench tenant %s-%d","plan":"starter","admin_email":"admin@bench.example",' ..
    '"description":"%s %s logistics","country_code":"US","city":"New York"}',
    prefix, counter, a, b)
  -- wrk.format replaces wrk.headers when given a table: keep the command line's (-H) headers.
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/tenants", headers, body)
end

response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
