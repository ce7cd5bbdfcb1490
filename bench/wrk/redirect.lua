-- GET /{key} with a key drawn at random from KEYS_FILE (one per line) for each request.
local keys = {}
local path = os.getenv("KEYS_FILE")
for line in io.lines(path) do
  keys[#keys + 1] = "/" .. line
end
math.randomseed(os.time())

request = function()
  return wrk.format("GET", keys[math.random(#keys)])
end
