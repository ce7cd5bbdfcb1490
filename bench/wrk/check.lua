-- POST /api/v1/ratelimit/check for rule "bench-fixed" with a key drawn from 100,000.
local token = os.getenv("TOKEN")
math.randomseed(os.time())

request = function()
  local body = '{"rule":"bench-fixed","key":"k' .. math.random(100000) .. '"}'
  return wrk.format("POST", "/api/v1/ratelimit/check",
                    {["Authorization"] = "Bearer " .. token,
                     ["Content-Type"] = "application/json"}, body)
end
