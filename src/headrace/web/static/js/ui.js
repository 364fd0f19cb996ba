// Small shared pieces: status badges, times, polling, errors, JSON.
import { html, useEffect, useRef, useState } from "/ui/vendor/preact-htm.module.js";

export { html };

export const STATUSES = [
  "created", "initializing", "waiting", "locked", "running", "retrying", "canceling", "suspending",
  "suspended", "resuming", "skipped", "canceled", "failed", "timeout", "completed",
];
export const FINAL = new Set(["skipped", "canceled", "failed", "timeout", "completed"]);
// A shape beside each status's colour and word: colour is never the only signal.
const MARK = {
  created: "◇", initializing: "○", waiting: "○", resuming: "○", locked: "◐", running: "▶", retrying: "↻",
  canceling: "■", suspending: "❚❚", suspended: "❚❚", skipped: "↷", canceled: "■",
  failed: "✖", timeout: "◔", completed: "✔",
};

export function Status({ status }) {
  return html`<span class=${`status s-${status}`}><span aria-hidden="true">${MARK[status] || "•"}</span> ${status}</span>`;
}

const pad = (n, w = 2) => String(n).padStart(w, "0");
export function utc(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.` +
    `${pad(d.getUTCMilliseconds(), 3)} UTC`;
}

// A time in the browser's zone; the exact UTC on hover (and for screen readers).
export function Time({ ms }) {
  if (ms === null || ms === undefined) return html`<span class="muted">—</span>`;
  const d = new Date(ms);
  return html`<time datetime=${d.toISOString()} title=${utc(ms)}>${d.toLocaleString()}</time>`;
}

export function age(ms, now = Date.now()) {
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

// Calls `load` now and every `ms` while the page is visible; returns [data, error, reload].
export function usePoll(load, ms, deps) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const tick = useRef(0);
  const run = async () => {
    const mine = ++tick.current;
    try {
      const value = await load();
      if (mine === tick.current) { setData(value); setError(null); }
    } catch (e) {
      if (mine === tick.current) setError(e);
    }
  };
  useEffect(() => {
    setData(null);
    run();
    if (!ms) return () => { tick.current++; };
    const timer = setInterval(() => { if (!document.hidden) run(); }, ms);
    return () => { clearInterval(timer); tick.current++; };
  }, deps);
  return [data, error, run];
}

// Whether the page follows the server's event stream, or polls while it is down.
export function LiveBadge({ live }) {
  return html`<span class=${`live ${live ? "on" : "off"}`} role="status" title=${live
    ? "updated as jobs change (server-sent events)" : "the event stream is down: reloading every 2 s"}>
    <span aria-hidden="true">${live ? "●" : "○"}</span> ${live ? "live" : "polling"}</span>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  const field = error.problem && error.problem.field ? ` (field: ${error.problem.field})` : "";
  const what = error.status === 403 ? "Not allowed" : error.status ? `Refused (${error.status})` : "Error";
  return html`<p class="error" role="alert"><strong>${what}:</strong> ${error.message}${field}</p>`;
}

export function Json({ value, label }) {
  if (value === null || value === undefined) return html`<p class="muted">none</p>`;
  return html`<pre class="json" tabindex="0" aria-label=${label}>${JSON.stringify(value, null, 2)}</pre>`;
}

export function Progress({ value, details }) {
  const pct = Math.round((value || 0) * 100);
  return html`<div class="progress">
    <progress max="100" value=${pct} aria-label="progress">${pct}%</progress>
    <span>${pct}%${details ? ` — ${details}` : ""}</span>
  </div>`;
}

export const short = (id) => (id ? id.slice(0, 8) : "");

export function href(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}
