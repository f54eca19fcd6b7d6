-- GET scenarios: counts non-2xx answers so that a benchmark of errors is noticed.
local bad = 0
response = function(status, headers, body)
  if status >= 300 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end
