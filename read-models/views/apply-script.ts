/**
 * The Lua script that applies a batch of changes (projection.ts: one per event the views do not
 * ignore) of one partition to the Redis views and moves that partition's checkpoint, in one
 * atomic step (read-models/README.md, "Redis views").
 * Kept as a TS string (the build does not copy .lua files); ViewsTarget loads it with ioredis'
 * `defineCommand` (EVALSHA, falling back to EVAL when the server does not know the script).
 *
 * KEYS[1]  the generation's checkpoint hash (`P checkpoint`)
 * ARGV[1]  P, the generation's key prefix (`<REDIS_KEY_PREFIX>views:g<N>:`)
 * ARGV[2]  topic, ARGV[3] partition, ARGV[4] lastOffset (canonical decimal)
 * ARGV[5]  JSON array of ViewsChange `{ aggregate, type, offset, data, occurredAt, occurredAtMs,
 *          version }`, offsets canonical decimals in ascending order, none above lastOffset
 *
 * Reply: `{'ok', applied, skipped, checkpoint, '<offset> <type>' …}` — the strings name events
 * that found nothing to change (an update of a product or order the view does not hold, a
 * second OrderPlaced) — or `{'poison', offset, type, reason}` for a change `refused` by
 * projection.ts (an event type it does not know) above the checkpoint: then nothing at all was
 * written (refusals are looked at before the first write, because Redis keeps the writes a
 * failing script made before its error). The fields are not checked again: the codec checked
 * them against the event's Avro schema, and projection.ts passes them on typed.
 *
 * Text is stored as the event has it (Redis strings hold any byte, NUL included): an event is
 * never set aside for its text.
 *
 * Offsets may exceed 2^53, so they are compared as decimal strings (length, then digits), never
 * as Lua numbers. Integers are written with `%d` (Lua's tostring rounds to 14 digits).
 */
export const APPLY_SCRIPT = `#!lua
local P = ARGV[1]
local CHECKPOINT = KEYS[1]
local FIELD = ARGV[2] .. ':' .. ARGV[3]
local LAST = ARGV[4]
local EVENTS = cjson.decode(ARGV[5])

local CATEGORIES = P .. 'categories'
local BESTSELLERS = P .. 'bestsellers'
local RECENT_ORDERS = 50

local function canonical(o)
  return type(o) == 'string' and (o == '0' or string.find(o, '^[1-9]%d*$') ~= nil)
end

-- a <= b for canonical decimal strings (byte-wise: independent of the server's locale)
local function le(a, b)
  if #a ~= #b then return #a < #b end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return true
end

if not canonical(LAST) then return redis.error_reply('ERR views: lastOffset is not a decimal offset') end

-- Writes ------------------------------------------------------------------------------------

local function fmt(n) return string.format('%d', n) end

local function hash_add(key, field, by)
  if redis.call('HINCRBY', key, field, by) <= 0 then redis.call('HDEL', key, field) end
end

local function zset_add(key, member, by)
  if tonumber(redis.call('ZINCRBY', key, by, member)) <= 0 then redis.call('ZREM', key, member) end
end

-- Each returns false when the event found nothing to change (reported as ignored).
local function apply_product(e, d)
  local k = P .. 'product:' .. d.productId
  local version = fmt(e.version)
  local t = e.type
  if t == 'ProductCreated' then
    local old = redis.call('HMGET', k, 'category', 'discontinued')
    if old[1] and old[2] == 'false' then hash_add(CATEGORIES, old[1], -1) end
    redis.call('HSET', k, 'id', d.productId, 'sku', d.sku, 'name', d.name,
      'description', d.description, 'category', d.category,
      'priceAmount', fmt(d.price.amount), 'currency', d.price.currency,
      'available', fmt(d.initialStock), 'discontinued', 'false', 'version', version)
    hash_add(CATEGORIES, d.category, 1)
    return true
  end
  local old = redis.call('HMGET', k, 'category', 'discontinued')
  if not old[1] then return false end
  if t == 'ProductDetailsUpdated' then
    if old[2] == 'false' and old[1] ~= d.category then
      hash_add(CATEGORIES, old[1], -1)
      hash_add(CATEGORIES, d.category, 1)
    end
    redis.call('HSET', k, 'name', d.name, 'description', d.description, 'category', d.category,
      'version', version)
  elseif t == 'ProductPriceChanged' then
    redis.call('HSET', k, 'priceAmount', fmt(d.price.amount), 'currency', d.price.currency,
      'version', version)
  elseif t == 'ProductRestocked' or t == 'StockReserved' or t == 'ReservationReleased' then
    redis.call('HSET', k, 'available', fmt(d.available), 'version', version)
  elseif t == 'ProductDiscontinued' then
    if old[2] == 'false' then hash_add(CATEGORIES, old[1], -1) end
    redis.call('HSET', k, 'discontinued', 'true', 'version', version)
  else
    -- The rest (ReservationCommitted, ProductPurchaseLimitSet, ...): only the version moves
    -- on. Which types reach here is decided by viewsChange's exhaustive switch (projection.ts).
    redis.call('HSET', k, 'version', version)
  end
  return true
end

local NEW_STATUS = {
  OrderConfirmed = 'confirmed', OrderShipped = 'shipped', OrderDelivered = 'delivered',
  OrderCancelled = 'cancelled', OrderReturned = 'returned',
}

local function apply_order(e, d)
  local k = P .. 'order:' .. d.orderId
  local t = e.type
  if t == 'OrderPlaced' then
    if redis.call('EXISTS', k) == 1 then return false end
    redis.call('HSET', k, 'id', d.orderId, 'customerId', d.customerId, 'status', 'pending',
      'totalAmount', fmt(d.total.amount), 'currency', d.total.currency, 'updatedAt', e.occurredAt)
    for _, l in ipairs(d.lines) do
      redis.call('HINCRBY', k .. ':lines', l.productId, fmt(l.quantity))
      zset_add(BESTSELLERS, l.productId, fmt(l.quantity))
    end
    local recent = P .. 'customer:' .. d.customerId .. ':orders'
    redis.call('ZADD', recent, fmt(e.occurredAtMs), d.orderId)
    redis.call('ZREMRANGEBYRANK', recent, 0, -(RECENT_ORDERS + 1))
    return true
  end
  local status = redis.call('HGET', k, 'status')
  if not status then return false end
  local set = { 'updatedAt', e.occurredAt }
  if NEW_STATUS[t] then
    set[#set + 1] = 'status'
    set[#set + 1] = NEW_STATUS[t]
  end
  if t == 'OrderCancelled' or t == 'OrderReturned' then
    set[#set + 1] = 'reason'
    set[#set + 1] = d.reason
    if status ~= 'cancelled' and status ~= 'returned' then
      local held = redis.call('HGETALL', k .. ':lines')
      for i = 1, #held, 2 do zset_add(BESTSELLERS, held[i], '-' .. held[i + 1]) end
    end
  end
  redis.call('HSET', k, unpack(set))
  return true
end

-- Batch -------------------------------------------------------------------------------------

local checkpoint = redis.call('HGET', CHECKPOINT, FIELD)
local todo, skipped = {}, 0
for i, e in ipairs(EVENTS) do
  if type(e) ~= 'table' or not canonical(e.offset) then
    return redis.error_reply('ERR views: event #' .. i .. ' has no decimal offset')
  end
  if checkpoint and le(e.offset, checkpoint) then
    skipped = skipped + 1
  elseif e.refused then
    -- An event projection.ts could not map, above the checkpoint: nothing is written yet.
    return { 'poison', e.offset, e.type, e.refused }
  else
    todo[#todo + 1] = e
  end
end

local ignored = {}
for _, e in ipairs(todo) do
  local applied
  if e.aggregate == 'product' then applied = apply_product(e, e.data) else applied = apply_order(e, e.data) end
  if not applied then ignored[#ignored + 1] = e.offset .. ' ' .. e.type end
end

if not checkpoint or not le(LAST, checkpoint) then
  redis.call('HSET', CHECKPOINT, FIELD, LAST)
  checkpoint = LAST
end

local reply = { 'ok', #todo, skipped, checkpoint }
for _, s in ipairs(ignored) do reply[#reply + 1] = s end
return reply
`;
