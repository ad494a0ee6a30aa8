-- wrk script for the legitimate client that runs during each attack.
-- Each connection waits LEGIT_PAUSE_MS milliseconds (default 10) between requests, so the
-- legitimate load stays moderate on a 2-core machine, and done() prints one summary line
-- that the conformance harness parses.

local pause_ms = tonumber(os.getenv("LEGIT_PAUSE_MS") or "10")

function delay()
  return pause_ms
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK_SUMMARY requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(99), latency.max))
end
