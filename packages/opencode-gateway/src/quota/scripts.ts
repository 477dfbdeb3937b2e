/**
 * The Lua scripts that make a quota check atomic in Redis: one round trip, no other client can
 * slip in between the check and the increment. Time is Redis's own (`TIME`), so replicas with
 * skewed clocks still agree where a window ends. Windows are fixed and aligned to the Unix epoch:
 * a counter's first increment sets it to expire at the end of its window.
 */

/**
 * KEYS: the counters. ARGV: per counter, `limit`, `windowMs`, `cost`. Refuses when any counter
 * has `used + max(cost, 1) > limit`; otherwise adds each cost. Returns
 * `[admitted, used1, ttlMs1, used2, ttlMs2, …]`.
 */
export const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local used = {}
local admitted = 1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 * i - 2])
  local cost = tonumber(ARGV[3 * i])
  used[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used[i] + math.max(cost, 1) > limit then admitted = 0 end
end
local out = { admitted }
for i = 1, #KEYS do
  local window = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  if admitted == 1 and cost > 0 then
    used[i] = redis.call('INCRBY', KEYS[i], cost)
  end
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    ttl = window - (now % window)
    if used[i] > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
  out[#out + 1] = used[i]
  out[#out + 1] = ttl
end
return out
`;

/** KEYS: the counters. ARGV: per counter, `amount`, `windowMs`. Adds each amount. */
export const ADD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i])
  redis.call('INCRBY', KEYS[i], tonumber(ARGV[2 * i - 1]))
  if redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('PEXPIRE', KEYS[i], window - (now % window))
  end
end
return #KEYS
`;
