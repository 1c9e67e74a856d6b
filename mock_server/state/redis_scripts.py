"""The Redis store's Lua scripts: the few steps that must be atomic and run no Python policy
(a journal entry numbered and appended, a job of an unlimited key stored, a poll counted,
deliveries claimed or expired only if still unclaimed, an upload stored and the oldest
trimmed). What runs a Python callable on stored data (an admission on an account, a pick, a
runtime change) is a WATCH/MULTI transaction in the store instead.

Every key a script touches is passed in KEYS (no key is built inside Lua)."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from redis.commands.core import Script

# KEYS: sequence, stream. ARGV: approximate length bound, the entry's JSON. The id comes from
# INCR, the stream id is "<id>-0", both in one step so that ids increase across hosts.
JOURNAL_APPEND = """
local n = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], n .. '-0', 'e', ARGV[2])
return n
"""

# KEYS: the job's hash, the owner's account, the job sequence, the jobs zset, the owner's jobs
# zset, the owner's in-flight set, the due zset. ARGV: in flight (0/1), next_event_at ("" for
# none), the job id, then the hash's field/value pairs. Stores a job of a key without an
# account (unlimited: nothing to check or charge) in one step; returns its sequence, -1 when
# the id is taken, -2 when the key has an account after all (the caller then admits it in a
# WATCH transaction, running the admission on the account).
ADMIT_UNLIMITED = """
if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'seq', seq, unpack(ARGV, 4))
redis.call('ZADD', KEYS[4], seq, ARGV[3])
redis.call('ZADD', KEYS[5], seq, ARGV[3])
if ARGV[1] == '1' then redis.call('SADD', KEYS[6], ARGV[3]) end
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[7], ARGV[2], ARGV[3]) end
return seq
"""

# KEYS: the job's hash. Returns the new count, or -1 when there is no such job.
BUMP_POLLS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'polls', 1)
"""

# KEYS: pending zset, claims hash, deliveries hash. ARGV: now, wall, claimed until, ids...
# Claims each id still pending, due by `now` and unclaimed at `wall`; returns id, JSON pairs.
CLAIM = """
local out = {}
local now, wall = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 4, #ARGV do
  local id = ARGV[i]
  local due = redis.call('ZSCORE', KEYS[1], id)
  if due and tonumber(due) <= now
      and tonumber(redis.call('HGET', KEYS[2], id) or '0') <= wall then
    redis.call('HSET', KEYS[2], id, ARGV[3])
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGET', KEYS[3], id)
  end
end
return out
"""

# KEYS: pending zset, claims hash, deliveries hash. ARGV: wall, then (id, JSON read, expired
# JSON) triples. Expires each delivery still pending, unclaimed and unchanged since read.
EXPIRE = """
local n = 0
local wall = tonumber(ARGV[1])
for i = 2, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], id)
      and tonumber(redis.call('HGET', KEYS[2], id) or '0') <= wall
      and redis.call('HGET', KEYS[3], id) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HSET', KEYS[3], id, ARGV[i + 2])
    n = n + 1
  end
end
return n
"""

# KEYS: order zset, sizes hash, types hash, data hash, sequence. ARGV: id, content type,
# bytes, max count, max bytes. Stores the upload as the newest, then drops the oldest past
# either bound (the newest is always kept).
PUT_UPLOAD = """
local seq = redis.call('INCR', KEYS[5])
redis.call('ZADD', KEYS[1], seq, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], string.len(ARGV[3]))
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
local total = 0
for n, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, -1)) do
  total = total + tonumber(redis.call('HGET', KEYS[2], id) or '0')
  if n > 1 and (n > tonumber(ARGV[4]) or total > tonumber(ARGV[5])) then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('HDEL', KEYS[4], id)
  end
end
return 1
"""


@dataclass(frozen=True)
class Scripts:
    """The scripts registered on one client (sent by SHA, loaded again when Redis lost them)."""

    journal_append: Script
    admit_unlimited: Script
    bump_polls: Script
    claim: Script
    expire: Script
    put_upload: Script

    @classmethod
    def register(cls, client: redis.Redis) -> Scripts:
        """Register every script on `client`."""
        return cls(
            journal_append=client.register_script(JOURNAL_APPEND),
            admit_unlimited=client.register_script(ADMIT_UNLIMITED),
            bump_polls=client.register_script(BUMP_POLLS),
            claim=client.register_script(CLAIM),
            expire=client.register_script(EXPIRE),
            put_upload=client.register_script(PUT_UPLOAD),
        )
