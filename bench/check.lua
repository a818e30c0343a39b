-- wrk script shared by all scenarios. Environment:
--   METHOD (GET/POST), BODY (form body), COOKIE (Cookie header), EXPECT (substring the body
--   must contain), EXPECT_STATUS (default: any 2xx/3xx), COOKIE_FILE (one cookie per line:
--   each request uses the next one, for logout), COOKIE_OUT (append every Set-Cookie here).
--   DELAY_MS (pause each connection this long between requests: a rate below capacity),
--   LOGOUT_AFTER (after each successful login, log that session out with the next request;
--   the state is per thread, so run it with one connection per thread: -c N -t N).
-- Prints "CHECK ok=<n> bad=<n> exhausted=<n>" at the end so that an error page cannot pass
-- for speed.

if os.getenv("DELAY_MS") then
  local pause = tonumber(os.getenv("DELAY_MS"))
  function delay() return pause end
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  ok, bad, exhausted = 0, 0, 0
  method = os.getenv("METHOD") or "GET"
  body = os.getenv("BODY")
  expect = os.getenv("EXPECT")
  expect_status = tonumber(os.getenv("EXPECT_STATUS") or "")
  local headers = {}
  if body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  if os.getenv("COOKIE") then headers["Cookie"] = os.getenv("COOKIE") end
  -- A browser's same-origin posts carry the site's origin; latchkey refuses form posts without.
  if os.getenv("ORIGIN") then headers["Origin"] = os.getenv("ORIGIN") end
  base_headers = headers
  cookies = nil
  local file = os.getenv("COOKIE_FILE")
  if file then
    cookies = {}
    local n, i = #threads, 0
    for line in io.lines(file) do
      -- Threads take disjoint stripes of the file, so no cookie is used twice.
      if i % (tonumber(os.getenv("THREADS") or "1")) == id then table.insert(cookies, line) end
      i = i + 1
    end
    next_cookie = 1
  end
  local out = os.getenv("COOKIE_OUT")
  if out then cookie_out = io.open(out .. "." .. id, "w") end
end

function request()
  if pending_logout then
    local headers = {}
    for k, v in pairs(base_headers) do headers[k] = v end
    headers["Cookie"] = pending_logout
    headers["Content-Type"] = nil
    pending_logout = nil
    logging_out = true
    return wrk.format("POST", "/api/logout", headers, "")
  end
  local headers = base_headers
  if cookies then
    headers = {}
    for k, v in pairs(base_headers) do headers[k] = v end
    local c = cookies[next_cookie]
    if c then
      headers["Cookie"] = c
      next_cookie = next_cookie + 1
    else
      exhausted = exhausted + 1
    end
  end
  return wrk.format(method, nil, headers, body)
end

function response(status, headers, resp_body)
  local good = true
  if expect_status then
    good = status == expect_status
  else
    good = status >= 200 and status < 400
  end
  if good and expect and not string.find(resp_body or "", expect, 1, true) then good = false end
  if logging_out then
    -- The logout that followed a login: it must expire the session cookie (an anonymous
    -- logout answers 2xx too).
    logging_out = false
    local sc = headers["Set-Cookie"] or headers["set-cookie"] or ""
    if status >= 200 and status < 300 and string.find(sc, "Max-Age=0", 1, true) then
      ok = ok + 1
    else
      bad = bad + 1
    end
    return
  end
  if good then ok = ok + 1 else bad = bad + 1 end
  if good and os.getenv("LOGOUT_AFTER") then
    local sc = headers["Set-Cookie"] or headers["set-cookie"]
    if sc then pending_logout = sc:match("^([^;]+)") end
  end
  if cookie_out then
    local sc = headers["Set-Cookie"] or headers["set-cookie"]
    if sc then cookie_out:write((sc:match("^([^;]+)")), "\n"); cookie_out:flush() end
  end
end

function done(summary, latency, requests)
  local o, b, e = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); b = b + t:get("bad"); e = e + t:get("exhausted")
  end
  io.write(string.format("CHECK ok=%d bad=%d exhausted=%d\n", o, b, e))
  io.write(string.format("LATENCY p50=%d p99=%d\n", latency:percentile(50), latency:percentile(99)))
end
