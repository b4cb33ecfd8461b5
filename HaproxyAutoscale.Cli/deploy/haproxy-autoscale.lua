-- haproxy-autoscale: hold a request while its backend has no usable server, and wake the autoscaler at once.
-- Print this file with `haproxy-autoscale lua`; the Debian package installs it as
-- /usr/share/haproxy-autoscale/haproxy-autoscale.lua. Works on HAProxy 2.6+ with Lua 5.3 or 5.4.
--
-- Load it once in `global` (lua-load, not lua-load-per-thread: the held counts are shared by all threads):
--     lua-load /usr/share/haproxy-autoscale/haproxy-autoscale.lua
-- and opt a backend in with one line in its section:
--     http-request lua.autoscale-hold if { nbsrv eq 0 }                 # hold up to 30 s, then 503 + Retry-After
--     http-request lua.autoscale-hold-with 20 503 if { nbsrv eq 0 }     # hold up to 20 s, then 503 + Retry-After
--     http-request lua.autoscale-hold-with 20 page if { nbsrv eq 0 }    # hold up to 20 s, then a self-reloading page
-- (HAProxy gives a Lua action an exact number of arguments, hence two actions.)
--
-- Keep the `if { nbsrv eq 0 }`: it lets HAProxy skip the script while the backend has a usable server. Without
-- it, every request enters Lua (one coroutine, and the lock of the single Lua state that lua-load shares between
-- threads): measured at 30,000 req/s on 2 cores, that cost over a third of the throughput; with it, nothing
-- measurable (HaproxyAutoscale.Benchmarks/scale-to-zero/hold-cost.py). The script checks again itself, so the
-- line also works without the condition, only slower. A held request
-- sends a wake line through the proxy's own log targets (txn:log), which reach haproxy-autoscale's log source
-- long before the request's own log line (a request logs when it ends):
--     haproxy-autoscale wake backend=<name> held=<requests waiting now>
-- then waits, yielding (core.msleep), until the backend has a usable server, and lets the request continue to it.
-- Past the deadline it answers 503 with Retry-After, or the page. Measured on 2.6.12 and 3.0.11: `timeout client`
-- does not cut a hold short (1 s with a 3 s hold: 503 at 3 s), and a client that leaves keeps its stream held,
-- and counted, until the deadline.

local POLL_MS = 50            -- how often a held request looks for a usable server
local WAKE_REPEAT_MS = 1000   -- a backend still at zero is woken again this often (a lost datagram is not fatal)
local WAKE_CHANGE_MS = 100    -- while the number held changes (a burst), it is reported at most this often
local DEFAULT_DEADLINE_S = 30
local RETRY_AFTER_S = "5"

-- backend name -> { [ticket] = deadline in ms } of the requests held now. A held request removes its own ticket;
-- a ticket whose request was killed mid-wait (client gone, `shutdown session`) expires at its deadline, so the
-- count reported never drifts upwards.
local waiting = {}
local held = {}               -- backend name -> requests held now (kept exact by the recount below)
local reported = {}           -- backend name -> held count in the last wake line
local last_wake = {}          -- backend name -> time in ms of the last wake line
local next_ticket = 0

local function now_ms()
    local t = core.now()
    return t.sec * 1000 + t.usec // 1000
end

local function recount(backend, now)
    local count = 0
    for ticket, deadline in pairs(waiting[backend]) do
        if deadline < now then
            waiting[backend][ticket] = nil
        else
            count = count + 1
        end
    end
    held[backend] = count
    return count
end

-- Sends a wake line when the last one is at least min_gap_ms old.
local function wake(txn, backend, now, min_gap_ms)
    local last = last_wake[backend]
    if last ~= nil and now - last < min_gap_ms then
        return
    end
    last_wake[backend] = now
    local count = recount(backend, now)
    reported[backend] = count
    txn:log(core.info, "haproxy-autoscale wake backend=" .. backend .. " held=" .. count)
end

local function give_up(txn, deadline_s, fallback)
    local reply = txn:reply()
    reply:set_status(503, "Service Unavailable")
    reply:add_header("retry-after", RETRY_AFTER_S)
    reply:add_header("cache-control", "no-store")
    if fallback == "page" then
        reply:add_header("content-type", "text/html; charset=utf-8")
        reply:set_body("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\""
            .. RETRY_AFTER_S .. "\"><title>Starting</title></head><body><p>This service is starting. "
            .. "This page reloads itself.</p></body></html>\n")
    else
        reply:add_header("content-type", "text/plain")
        reply:set_body("no server of this backend became ready within " .. deadline_s .. " s\n")
    end
    txn:done(reply)
end

local function hold(txn, deadline_s, fallback)
    if txn.f:nbsrv() > 0 then
        return act.CONTINUE
    end
    local backend = txn.sf:be_name()
    local now = now_ms()
    local deadline = now + deadline_s * 1000
    next_ticket = next_ticket + 1
    local ticket = next_ticket
    waiting[backend] = waiting[backend] or {}
    waiting[backend][ticket] = deadline
    held[backend] = (held[backend] or 0) + 1
    -- The first request held wakes at once; the autoscaler sizes the wake by the count, so a burst is reported
    -- again once it settled (lines at least WAKE_CHANGE_MS apart), then every WAKE_REPEAT_MS while nothing changes.
    wake(txn, backend, now, held[backend] == 1 and 0 or WAKE_CHANGE_MS)
    local ready = false
    while true do
        core.msleep(POLL_MS)
        if txn.f:nbsrv() > 0 then
            ready = true
            break
        end
        now = now_ms()
        if now >= deadline then
            break
        end
        wake(txn, backend, now, held[backend] ~= reported[backend] and WAKE_CHANGE_MS or WAKE_REPEAT_MS)
    end
    if waiting[backend][ticket] ~= nil then
        waiting[backend][ticket] = nil
        held[backend] = held[backend] - 1
    end
    if ready then
        return act.CONTINUE
    end
    give_up(txn, deadline_s, fallback)
    return act.DONE
end

-- Arguments are known only when a request runs the action (HAProxy does not check them at start), so a wrong one
-- fails each request loudly in HAProxy's log instead of holding with a value nobody wrote.
local function parse_deadline(text)
    local seconds = tonumber(text)
    if seconds == nil or seconds <= 0 then
        error("autoscale-hold-with: the deadline must be a number of seconds above 0, got '" .. tostring(text) .. "'")
    end
    return seconds
end

core.register_action("autoscale-hold", { "http-req" }, function(txn)
    return hold(txn, DEFAULT_DEADLINE_S, "503")
end, 0)

core.register_action("autoscale-hold-with", { "http-req" }, function(txn, deadline, fallback)
    if fallback ~= "503" and fallback ~= "page" then
        error("autoscale-hold-with: the fallback must be 503 or page, got '" .. tostring(fallback) .. "'")
    end
    return hold(txn, parse_deadline(deadline), fallback)
end, 2)
