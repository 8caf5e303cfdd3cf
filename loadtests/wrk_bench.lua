-- wrk script used by loadtests/benchlib.py (run_wrk). Two jobs:
--
-- 1. At the end, print wrk's own counters as one JSON line after "FAKEBOXER-WRK ", so the
--    benchmark reads exact numbers (latency in microseconds) instead of wrk's rounded text.
-- 2. With a rate argument (`wrk ... -s wrk_bench.lua URL -- 700`), pace the load at about
--    that many requests per second. wrk has no rate option, but calls delay() before each
--    request on a connection; here every call takes the next slot of one shared timeline
--    (slots 1000/rate ms apart), so the connections together send at the rate. A slot that
--    is already past is not caught up on: when the server is slower than the rate, the
--    achieved rate drops instead of a burst, and the benchmark reports the achieved rate.
--    Latency is timed by wrk from the write of each request, as without pacing.
--
-- Needs LuaJIT's ffi for a millisecond clock (Debian's wrk is built with LuaJIT).

local rate = nil

function init(args)
  if args[1] ~= nil then
    rate = tonumber(args[1])
  end
  if rate == nil or rate <= 0 then
    return
  end
  local ffi = require("ffi")
  ffi.cdef([[
    typedef struct { long tv_sec; long tv_nsec; } fakeboxer_timespec;
    int clock_gettime(int clock_id, fakeboxer_timespec *tp);
  ]])
  local now_ts = ffi.new("fakeboxer_timespec")
  local CLOCK_MONOTONIC = 1
  local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
    return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
  end
  local interval_ms = 1000 / rate
  local next_slot = nil
  -- Defined here, after init, on purpose: wrk only paces when a global delay() exists.
  delay = function()
    local now = now_ms()
    if next_slot == nil or next_slot < now then
      next_slot = now
    end
    local wait = next_slot - now
    next_slot = next_slot + interval_ms
    return math.floor(wait)
  end
end

-- done() runs in wrk's main Lua state, not in the thread's that init() set up: it cannot
-- see the rate (the caller knows it).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FAKEBOXER-WRK {"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
