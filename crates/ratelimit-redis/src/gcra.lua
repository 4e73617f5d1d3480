-- GCRA in one atomic step. KEYS[1] holds the theoretical arrival time (TAT) in microseconds of
-- Redis server time, so every app instance measures time on the same clock.
-- ARGV[1]: emission interval (µs); ARGV[2]: burst. Returns 0 when allowed, else µs to wait.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
-- A request passes while the TAT is at most `burst - 1` intervals ahead of now.
local wait = tat - interval * (burst - 1) - now
if wait > 0 then
  return wait
end
local new_tat = tat + interval
-- '%d' keeps every digit ('%.14g', Lua's default, would round µs timestamps). The key expires
-- when its state is back to fresh, so idle keys cost nothing.
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return 0
