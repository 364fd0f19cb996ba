// Live updates: one server-sent event stream of the tenant's job changes (GET /job-changes),
// shared by every view on the page. fetch() reads it, not EventSource: EventSource cannot
// send the Authorization header, and the token must never be in a URL. While the stream
// is down, views poll every 2 s instead.
import { ApiError, reportUnauthenticated, token } from "/ui/js/api.js";
import { useEffect, useRef, useState } from "/ui/vendor/preact-htm.module.js";

const HOLD_SEC = 55; // the server ends a stream after this; we reconnect from the last id
const RETRY_MS = 2000;
export const POLL_MS = 2000;

const listeners = new Set(); // (change) => void; change: a job's fields, or {overflow: true}
const watchers = new Set(); // (live: boolean) => void
let running = false;
let live = false;
let lastId = null;
let controller = null;

function setLive(value) {
  if (live === value) return;
  live = value;
  for (const w of watchers) w(live);
}

function dispatch(block) {
  let kind = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) kind = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
    else if (line.startsWith("id: ")) lastId = line.slice(4);
  }
  if (kind === "ready") setLive(true);
  else if (kind === "job") for (const l of listeners) l(JSON.parse(data));
  else if (kind === "overflow") for (const l of listeners) l({ overflow: true });
  else if (kind === "unauthenticated") throw new ApiError(401, JSON.parse(data));
}

async function readStream() {
  controller = new AbortController();
  const headers = { Accept: "text/event-stream" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (lastId) headers["Last-Event-ID"] = lastId;
  const answer = await fetch(`/job-changes?timeout=${HOLD_SEC}`, { headers, signal: controller.signal });
  if (!answer.ok) {
    let problem = {};
    try { problem = await answer.json(); } catch { /* not JSON */ }
    throw new ApiError(answer.status, problem);
  }
  const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      dispatch(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

async function run() {
  if (running) return;
  running = true;
  while (listeners.size > 0) {
    try {
      await readStream(); // ended by the server after HOLD_SEC: reconnect at once
    } catch (err) {
      if (listeners.size === 0) break;
      setLive(false);
      if (err instanceof ApiError && err.status === 401) reportUnauthenticated(err);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
  setLive(false);
  running = false;
}

// Calls `listener` with each change; returns the function that stops it.
export function subscribe(listener) {
  listeners.add(listener);
  run();
  return () => {
    listeners.delete(listener);
    // A page that replaces another subscribes a moment later: keep the stream for it.
    setTimeout(() => { if (listeners.size === 0 && controller) controller.abort(); }, 1000);
  };
}

export function useLiveState() {
  const [value, setValue] = useState(live);
  useEffect(() => {
    watchers.add(setValue);
    setValue(live);
    return () => watchers.delete(setValue);
  }, []);
  return value;
}

// Loads now, again when a relevant job changes (at most every `gapMs`), and every 2 s
// while the stream is down; returns [data, error, reload, live].
export function useLive(load, deps, relevant = () => true, gapMs = 300) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const isLive = useLiveState();
  const tick = useRef(0);
  const latest = useRef(null);
  const timer = useRef(null);
  const reload = async () => {
    const mine = ++tick.current;
    try {
      const value = await load();
      if (mine === tick.current) { setData(value); setError(null); }
    } catch (e) {
      if (mine === tick.current) setError(e);
    }
  };
  latest.current = reload;
  useEffect(() => {
    setData(null);
    latest.current();
    const stop = subscribe((change) => {
      if (!change.overflow && !relevant(change)) return;
      if (timer.current) return; // one reload per gap, however many changes came
      timer.current = setTimeout(() => { timer.current = null; latest.current(); }, gapMs);
    });
    return () => { stop(); tick.current++; clearTimeout(timer.current); timer.current = null; };
  }, deps);
  const wasLive = useRef(isLive);
  useEffect(() => {
    if (isLive) {
      if (!wasLive.current) latest.current(); // what changed while the stream was down
      wasLive.current = true;
      return undefined;
    }
    wasLive.current = false;
    const poll = setInterval(() => { if (!document.hidden) latest.current(); }, POLL_MS);
    return () => clearInterval(poll);
  }, [isLive, ...deps]);
  return [data, error, reload, isLive];
}
