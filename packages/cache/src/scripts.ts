// The Redis side of tagged entries and durable invalidation, shared by the gateway's store
// (./index.ts) and the outbox relay's publisher (./invalidation.ts), so both name keys alike:
// - `<ns>::<key>`: an entry (keyv's prefixing, which the store reads through);
// - `<ns>:tag:<tag>`: the set of entry keys holding a tag;
// - `<ns>:inv:<tag>`: when the tag was last invalidated (Redis clock, ms) — the durable marker.
// Each operation is one Lua script, so it is atomic whatever order commands held up by a stall
// reach Redis in: an invalidation deletes the tagged entries and leaves its marker (and, from
// a relay, publishes in the same step), and an entry is written with its tags only if none of
// them was invalidated after its answer began — an answer computed before a write can never be
// stored after that write's invalidation, even when its SET sat in a hung socket meanwhile.

export const tagSetKey = (namespace: string, tag: string) => `${namespace}:tag:${tag}`;

/**
 * How long a marker is kept: longer than any answer takes to compute and write, or to sit
 * in a hung connection, so a late write still meets it. @default 10 minutes
 */
export const MARKER_TTL_MS = 10 * 60 * 1000;

/**
 * ARGV: namespace, marker TTL (ms), channel ('' for none), message (a JSON object), tags… →
 * entries deleted; the published message carries that count as `purged`.
 */
export const PURGE_SCRIPT = `
local ns = ARGV[1]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local deleted = 0
for i = 5, #ARGV do
  local set = ns .. ':tag:' .. ARGV[i]
  for _, key in ipairs(redis.call('SMEMBERS', set)) do
    deleted = deleted + redis.call('UNLINK', ns .. '::' .. key)
  end
  redis.call('DEL', set)
  redis.call('SET', ns .. ':inv:' .. ARGV[i], now, 'PX', ARGV[2])
end
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], string.sub(ARGV[4], 1, -2) .. ',"purged":' .. deleted .. '}')
end
return deleted
`;

/**
 * ARGV: namespace, key, stored value, TTL (ms), not-before (ms, Redis clock), tag-set TTL (s),
 * tags… → 1 when written, 0 when a tag was invalidated at or after not-before.
 */
export const PUT_SCRIPT = `
local ns = ARGV[1]
for i = 7, #ARGV do
  local at = redis.call('GET', ns .. ':inv:' .. ARGV[i])
  if at and tonumber(at) >= tonumber(ARGV[5]) then return 0 end
end
for i = 7, #ARGV do
  local set = ns .. ':tag:' .. ARGV[i]
  redis.call('SADD', set, ARGV[2])
  redis.call('EXPIRE', set, ARGV[6], 'NX')
  redis.call('EXPIRE', set, ARGV[6], 'GT')
end
redis.call('SET', ns .. '::' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1
`;
