"""One Redis round trip before a request's view: who calls, whether it may, and what it reads.

A keyed read used to ask Redis five times: whether the API needs a key and whose the token
is, whether the client address is locked out for failed authentications, the rate limit
(twice: count, then the headers' figures) and the article. On a loaded two-core machine a
round trip costs more than the rest of a cached read (the socket write wakes Redis), so
the gate does all of it in one Lua script (``EVALSHA``), in the order the checks were
made one by one:

1. the key: whether one is required (:mod:`service.keys`) and which key the token's
   digest names;
2. when one is required, the failed-authentication throttle of the address
   (:mod:`service.auth_throttle`): over its limit, ``throttled`` with the window's TTL;
   without a valid key, the failure is counted and ``unauthorized``;
3. the rate limit (:mod:`service.ratelimit`), a moving window of request times per
   caller; counting is let go when Redis refuses the write (full): the request passes
   uncounted, as flask-limiter's ``swallow_errors`` did;
4. for the hot reads (:mod:`service.article_reads`), the article: the claims document's
   fields and, unless ``If-None-Match`` holds its ETag, the document; or the article's
   hash and document. A document whose ETag the process says it holds
   (:mod:`service.held_documents`) is not sent: :data:`HELD` stands in its place when it
   still exists under that ETag; an article hash whose revision the process rendered
   (:mod:`service.rendered_articles`) is not sent either: :data:`HELD_ARTICLE` and whether
   the document exists stand in its place.

The script builds one key from what it reads (the rate-limit key of the caller's key id),
which a single Redis allows; the service never runs on Redis Cluster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from string import Template

from limits import parse_many
from redis import Redis

from service.script_batches import ScriptBatches
from service.store import DONE, ETAG_FIELD, OWNER_FIELD_PREFIX, REVISION_FIELD, SPAN_FIELD, TOTAL_FIELD, ANONYMOUS

OK, UNAUTHORIZED, THROTTLED, LIMITED = "ok", "unauthorized", "throttled", "limited"
CLAIMS, ARTICLE = "claims", "article"
NO_TOKEN = "-"  # the digest-key argument of a request without a token (never a key name)
LPUSH_CHUNK = 1000  # request times pushed per LPUSH (Lua's unpack has a bounded stack)
HELD = 2  # the script's value in place of a claims document the process holds
HELD_ARTICLE = 3  # the script's value in place of an article hash whose revision the process rendered

_SCRIPT = r"""
local now, mode, cost, rate_key = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local read, page_size, any_tag, held, revision = ARGV[5], tonumber(ARGV[6]), ARGV[7] == '1', ARGV[9], ARGV[10]
local fail_amount, fail_window, rate_amount, rate_window = $fail_amount, $fail_window, $rate_amount, $rate_window

local key_id = false
if mode == 'identify' then
  if KEYS[3] ~= '$no_token' then key_id = redis.call('GET', KEYS[3]) end
  -- a live key's token is there only while its key is: keys are required
  if key_id or redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then
    if fail_amount > 0 then
      local failures = tonumber(redis.call('GET', KEYS[4]) or '0')
      if failures >= fail_amount then
        return {'$throttled', false, redis.call('TTL', KEYS[4]), 0, 0, '0'}
      end
    end
    if not key_id then
      if fail_amount > 0 and redis.call('INCR', KEYS[4]) == 1 then
        redis.call('EXPIRE', KEYS[4], fail_window)
      end
      return {'$unauthorized', false, 0, 0, 0, '0'}
    end
    rate_key = rate_key .. key_id
  else
    rate_key = ARGV[8]
  end
end

-- the moving window: the list holds the times of the requests let through in the window, newest
-- first; the ones that left it are dropped from its end first (each once: O(1) a request), and
-- the last one read is the oldest kept
local counted, count, oldest = 0, 0, now
if rate_amount > 0 and cost > 0 then
  local since, last = now - rate_window, false
  while true do
    last = redis.call('LINDEX', rate_key, -1)
    if not last or tonumber(last) >= since then break end
    local popped = redis.pcall('RPOP', rate_key)
    if type(popped) == 'table' and popped.err then break end
  end
  oldest = last and tonumber(last) or now
  count = redis.call('LLEN', rate_key)
  local allowed = count + cost <= rate_amount
  if allowed then
    local stamps = {}
    for i = 1, math.min(cost, $chunk) do stamps[i] = ARGV[1] end
    local left = cost
    while left > 0 do
      local n = math.min(left, $chunk)
      local reply = redis.pcall('LPUSH', rate_key, unpack(stamps, 1, n))
      if type(reply) == 'table' and reply.err then break end
      count, left = reply, left - n
    end
    redis.pcall('EXPIRE', rate_key, rate_window)
  end
  if not allowed then
    return {'$limited', key_id, 0, 1, count, tostring(oldest)}
  end
  counted = 1
end

local head = {'$ok', key_id, 0, counted, count, tostring(oldest)}
local owner = key_id or '$anonymous'
if read == '$claims' then
  local f = redis.call('HMGET', KEYS[5], 'status', '$owner_prefix' .. owner, '$etag', '$span', '$total')
  if f[1] == '$done' and f[2] and f[3] and tonumber(f[5] or '0') <= page_size then
    local matched = any_tag and 1 or 0
    for i = 11, #ARGV do
      if ARGV[i] == f[3] then matched = 1 end
    end
    local body = false
    if matched == 0 then
      if held == f[3] and redis.call('EXISTS', KEYS[6]) == 1 then matched = $held else body = redis.call('GET', KEYS[6]) end
    end
    for _, v in ipairs({f[3], f[4], f[5], matched, body}) do head[#head + 1] = v end
  end
elseif read == '$article' then
  if revision ~= '' and redis.call('HGET', KEYS[5], '$revision_field') == revision then
    head[#head + 1] = $held_article
    head[#head + 1] = redis.call('EXISTS', KEYS[6])
    return head
  end
  if held ~= '' and redis.call('HGET', KEYS[5], '$etag') == held and redis.call('EXISTS', KEYS[6]) == 1 then
    head[#head + 1] = $held
  else
    head[#head + 1] = redis.call('GET', KEYS[6])
  end
  for _, v in ipairs(redis.call('HGETALL', KEYS[5])) do head[#head + 1] = v end
end
return head
"""
_NAMES = dict(
    no_token=NO_TOKEN, throttled=THROTTLED, unauthorized=UNAUTHORIZED, limited=LIMITED, ok=OK, chunk=LPUSH_CHUNK,
    claims=CLAIMS, article=ARTICLE, anonymous=ANONYMOUS, owner_prefix=OWNER_FIELD_PREFIX, done=DONE,
    etag=ETAG_FIELD, span=SPAN_FIELD, total=TOTAL_FIELD, held=HELD,
    held_article=HELD_ARTICLE, revision_field=REVISION_FIELD,
)
_HEAD = 6  # values before the read's


@dataclass(frozen=True, slots=True)
class RateWindow:
    """The caller's moving window once counted: whether the request fit, how many requests are in
    the window and when the oldest of them was made (now when none)."""

    allowed: bool
    count: int
    oldest: float


@dataclass(frozen=True, slots=True)
class Passage:
    """What the gate found: ``outcome`` (``ok``, ``unauthorized``, ``throttled``, ``limited``),
    the caller's key id (None when the API is open), the throttle's wait in seconds, the rate
    window when counted, and the planned read's raw values."""

    outcome: str
    key_id: str | None
    wait: int
    rate: RateWindow | None
    read: list[bytes | int | None]


@dataclass(frozen=True, slots=True)
class Read:
    """An article read planned with the checks: ``kind`` (``claims`` or ``article``), its keys,
    the If-None-Match tags (``any_tag`` for ``*``) that spare reading the claims document, and
    the ETag of the document the process holds (``held``; empty for none), which is not sent,
    and for the article the revision of its hash the process rendered (``revision``; empty for
    none): while it is the hash's, the hash is not sent either, only whether the document exists."""

    kind: str
    article_key: str
    result_key: str
    page_size: int = 0
    tags: tuple[str, ...] = ()
    any_tag: bool = False
    held: str = ""
    revision: str = ""


@dataclass(frozen=True, slots=True)
class Limit:
    """``amount`` per ``seconds``; an amount of 0 is no limit."""

    amount: int = 0
    seconds: int = 0

    @classmethod
    def parse(cls, limit: str | None) -> Limit:
        """A limit such as ``600/minute`` (one only); None is no limit."""
        if limit is None:
            return cls()
        parsed = parse_many(limit)
        if len(parsed) != 1:
            raise ValueError(f"one limit is expected, not {limit!r}")
        return cls(parsed[0].amount, parsed[0].get_expiry())


class RequestGate:
    """Runs the gate's script with the service's keys and limits."""

    def __init__(self, redis: Redis, keys: tuple[str, str], failures: Limit, rate: Limit) -> None:
        self.redis = redis
        self.keys = keys  # the key registry hash and the "required" flag
        self.failures = failures
        self.rate = rate
        limits = {"fail_amount": failures.amount, "fail_window": failures.seconds,
                  "rate_amount": rate.amount, "rate_window": rate.seconds}
        self.script = ScriptBatches(redis, redis.register_script(Template(_SCRIPT).substitute(_NAMES, **limits)))

    def identify(
        self,
        token_key: str | None,
        failure_key: str,
        key_rate_prefix: str,
        open_rate_key: str,
        cost: int,
        read: Read | None = None,
    ) -> Passage:
        """Check the token (``token_key``: its digest's key) and the address's failures
        (``failure_key``); with ``cost`` > 0, count the rate limit at ``key_rate_prefix`` and the
        key id, or at ``open_rate_key`` when the API is open; then make ``read``."""
        keys = [*self.keys, token_key or NO_TOKEN, failure_key]
        keys += [read.article_key, read.result_key] if read is not None else [NO_TOKEN, NO_TOKEN]
        return self._run("identify", keys, cost, key_rate_prefix, read, open_rate_key)

    def count(self, rate_key: str, cost: int) -> RateWindow | None:
        """Count a request of a known caller in the rate limit at ``rate_key``."""
        return self._run("count", [NO_TOKEN] * 6, cost, rate_key, None, "").rate

    def _run(self, mode: str, keys: list[str], cost: int, rate_key: str, read: Read | None, open_rate_key: str) -> Passage:
        args = [
            repr(time.time()), mode, cost if self.rate.amount else 0, rate_key,
            read.kind if read else "", read.page_size if read else 0, "1" if read and read.any_tag else "0",
            open_rate_key, read.held if read else "", read.revision if read else "", *(read.tags if read else ()),
        ]
        reply = self.script(keys=keys, args=args)
        outcome, key_id, wait, counted, count, oldest = reply[:_HEAD]
        rate = RateWindow(outcome != LIMITED.encode(), int(count), float(oldest)) if counted else None
        return Passage(
            outcome.decode(), key_id.decode() if key_id else None, int(wait), rate, reply[_HEAD:]
        )
