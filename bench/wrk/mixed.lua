-- Mixed load (issue 8): 80% reads (GET /api/v1/tenants/{id} over the ids listed, one per line,
-- in the file named by TENANT_BENCH_IDS) and 20% commands (POST /api/v1/tenants, a fresh name
-- each, as create.lua). Every fifth request of a connection's thread is a create, so the mix is
-- exact rather than random. Non-2xx answers are counted and printed at the end: a benchmark of
-- errors must be noticed.
local ids = {}
local counter = 0
local prefix = ""
local bad = 0
local threads = {}

function setup(thread)
  thread:set("prefix", tostring(math.random(1, 1e9)))
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("TENANT_BENCH_IDS")
  if path then
    for line in io.lines(path) do
      if #line > 0 then ids[#ids + 1] = line end
    end
  end
  if #ids == 0 then
    io.stderr:write("mixed.lua: no ids (set TENANT_BENCH_IDS to a file of tenant ids)\n")
    os.exit(2)
  end
end

local function headers_with(extra)
  -- wrk.format replaces wrk.headers when given a table: keep the command line's (-H) headers.
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(extra) do h[k] = v end
  return h
end

request = function()
  counter = counter + 1
  if counter % 5 == 0 then
    local body = string.format(
      '{"name":"Bench mixed %s-%d","plan":"starter","admin_email":"admin@bench.example",' ..
      '"description":"mixed load","country_code":"US","city":"New York"}', prefix, counter)
    return wrk.format("POST", "/api/v1/tenants",
                      headers_with({["Content-Type"] = "application/json"}), body)
  end
  local id = ids[(counter % #ids) + 1]
  return wrk.format("GET", "/api/v1/tenants/" .. id, headers_with({}))
end

response = function(status, headers, body)
  if status >= 300 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  for _, t in ipairs(threads) do total_bad = total_bad + (t:get("bad") or 0) end
  io.write(string.format("mixed_non_2xx %d\n", total_bad))
end
