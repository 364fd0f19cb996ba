// One job: timeline, progress, reason, params, result, error, logs, runs, snapshots, buttons.
import { ROUTES, del, get, post } from "/ui/js/api.js";
import { useLive } from "/ui/js/live.js";
import { ErrorBox, FINAL, Json, LiveBadge, Progress, Status, Time, href, html, short, usePoll, utc } from "/ui/js/ui.js";
import { useEffect, useRef, useState } from "/ui/vendor/preact-htm.module.js";

export const PIPELINE_TYPE = "headrace.pipeline";
const TAIL = 200;

// The lifecycle calls each status allows (the API has the last word: a refusal is shown).
// Each entry: [key, label, call or null for the snapshot form, what it does].
export function actions(job) {
  const s = job.status;
  const pipeline = job.type === PIPELINE_TYPE;
  const id = job.job_id;
  const idle = s === "created" || FINAL.has(s); // no active run
  const list = [];
  if (idle) list.push(["start", "Start", () => post(`/jobs/${id}/start`), "start a new run"]);
  if (!idle && s !== "canceling") list.push(["cancel", "Cancel", () => post(`/jobs/${id}/cancel`), "cancel the run"]);
  if (!idle) list.push(["stop", "Stop", () => post(`/jobs/${id}/stop`, { force: false }), "end the current run"]);
  if (!idle) list.push(["force-stop", "Force stop", () => post(`/jobs/${id}/stop`, { force: true }), "end the current run at once"]);
  if (pipeline && ["locked", "running", "canceling"].includes(s)) list.push(["force-cancel", "Force cancel", () => post(`${ROUTES.pipelineJobs}/${id}/cancel`, { force: true }), "cancel at once"]);
  if (["waiting", "locked", "running"].includes(s)) list.push(["suspend", "Suspend", () => post(`/jobs/${id}/suspend`), "suspend"]);
  if (s === "suspended") list.push(["resume", "Resume", () => post(`/jobs/${id}/resume`), "resume"]);
  if (pipeline && ["locked", "running"].includes(s)) list.push(["restart", "Restart", () => post(`${ROUTES.pipelineJobs}/${id}/restart`), "restart from the last snapshot"]);
  if (["failed", "timeout"].includes(s)) list.push(["retry", "Retry", () => post(`/jobs/${id}/retry`), "retry the failed run"]);
  if (s === "failed" && job.require_error_ack && !job.error_acknowledged) list.push(["acknowledge", "Acknowledge error", () => post(`/jobs/${id}/acknowledge-error`), "acknowledge the error"]);
  if (pipeline && ["running", "suspended"].includes(s)) list.push(["export", "Export snapshot", null, "export a snapshot"]);
  if (idle) list.push(["delete", "Delete", () => del(`/jobs/${id}`), "delete the job"]);
  return list;
}

function Buttons({ job, who, reload }) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState("");
  const [name, setName] = useState("");
  const canWrite = who.role !== "viewer";
  const run = async (label, call) => {
    setError(null); setDone("");
    try { await call(); setDone(`${label}: accepted.`); } catch (e) { setError(e); }
    reload();
  };
  const list = actions(job);
  return html`<section aria-labelledby="act-h"><h2 id="act-h">Actions</h2>
    ${list.length === 0 && html`<p class="muted">No lifecycle call applies to a ${job.status} job.</p>`}
    <div class="actions">
      ${list.map(([key, label, call, what]) => call ? html`<button type="button" data-action=${key} disabled=${!canWrite}
          title=${canWrite ? what : `role ${who.role} may not ${what}`} onClick=${() => run(label, call)}>${label}</button>`
        : html`<form class="inline" onSubmit=${(e) => { e.preventDefault(); run(label, () => post(`${ROUTES.pipelineJobs}/${job.job_id}/snapshots`, { name, timeout: 30 })); }}>
            <label>Snapshot name <input value=${name} required disabled=${!canWrite} onInput=${(e) => setName(e.target.value)} /></label>
            <button type="submit" data-action=${key} disabled=${!canWrite}>${label}</button></form>`)}
    </div>
    ${done && html`<p role="status" class="ok">${done}</p>`}
    <${ErrorBox} error=${error} />
  </section>`;
}

// The last TAIL lines; while following, once a second only the lines after the last seen.
function Logs({ id, live }) {
  const [follow, setFollow] = useState(true);
  const box = useRef(null);
  const [logs, setLogs] = useState(null); // {lines, total}
  const [error, setError] = useState(null);
  const last = useRef(null);
  useEffect(() => { last.current = null; setLogs(null); }, [id]);
  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const after = last.current;
        const got = await get(`/jobs/${id}/log-tail${after === null ? `?limit=${TAIL}` : `?after=${after}&limit=1000`}`);
        if (stop) return;
        if (got.items.length) last.current = got.items[got.items.length - 1].log_id;
        else if (after === null) last.current = 0;
        setLogs((old) => ({ lines: [...(after === null || !old ? [] : old.lines), ...got.items].slice(-TAIL), total: got.total }));
        setError(null);
      } catch (e) { if (!stop) setError(e); }
    };
    if (follow || last.current === null) load();
    if (!follow) return () => { stop = true; };
    const timer = setInterval(() => { if (!document.hidden) load(); }, 1000);
    return () => { stop = true; clearInterval(timer); };
  }, [id, follow]);
  useEffect(() => { if (follow && box.current) box.current.scrollTop = box.current.scrollHeight; });
  const lines = logs ? logs.lines : [];
  return html`<section aria-labelledby="logs-h"><h2 id="logs-h">Logs <span class="muted">(last ${Math.min(TAIL, logs ? logs.total : TAIL)} of ${logs ? logs.total : "…"})</span></h2>
    <label><input type="checkbox" checked=${follow} onChange=${(e) => setFollow(e.target.checked)} /> Follow${live ? "" : " (the job has ended)"}</label>
    <${ErrorBox} error=${error} />
    <pre class="logs" ref=${box} tabindex="0" role="log" aria-label="log lines" aria-live="off">${lines.map((l) =>
      html`<span class=${`lvl-${l.level.toLowerCase()}`}><span title=${utc(l.at_ms)}>${new Date(l.at_ms).toLocaleTimeString()}</span> ${l.level.padEnd(7)} ${l.message}</span>`)}</pre>
  </section>`;
}

function Offsets({ value }) {
  const entries = Object.entries((value && value.offsets) || {});
  if (entries.length === 0) return html`<p class="muted">No committed offsets (none snapshotted yet, or the job keeps no snapshots).</p>`;
  return html`<table class="offsets"><thead><tr><th scope="col">source / split</th><th scope="col">offset</th></tr></thead>
    <tbody>${entries.map(([k, v]) => html`<tr><th scope="row"><code>${k}</code></th><td><code>${v === null ? "beginning" : v}</code></td></tr>`)}</tbody></table>`;
}

function metricSummary(m) {
  if (!m) return "—";
  if ("received_count" in m) return `in ${m.received_count} · out ${m.emitted_count}${m.late_dropped_count ? ` · late ${m.late_dropped_count}` : ""}`;
  const keys = Object.keys(m);
  return keys.length ? keys.slice(0, 3).map((k) => `${k} ${JSON.stringify(m[k])}`).join(" · ") : "—";
}

function RunDetails({ id, run, pipeline }) {
  const [open, setOpen] = useState(false);
  const [offsets, setOffsets] = useState(null);
  const [error, setError] = useState(null);
  const toggle = (e) => {
    setOpen(e.target.open);
    if (e.target.open && pipeline && !offsets) get(`/jobs/${id}/offsets?run_count=${run.run_count}`).then(setOffsets, setError);
  };
  return html`<details onToggle=${toggle} data-run=${run.run_count}><summary>Run ${run.run_count}: metrics${pipeline ? " and offsets" : ""}</summary>
    ${open && html`<div class="two">
      <div><h4>Metrics</h4><${Json} label=${`metrics of run ${run.run_count}`} value=${run.metrics} /></div>
      ${pipeline && html`<div><h4>Offsets</h4><${ErrorBox} error=${error} />${offsets && html`<${Offsets} value=${offsets} />`}</div>`}
      ${run.parameters && Object.keys(run.parameters).length > 0 && html`<div><h4>Parameters</h4><${Json} label=${`parameters of run ${run.run_count}`} value=${run.parameters} /></div>`}
    </div>`}</details>`;
}

// Every run of the job (newest first) with its metrics; a pipeline job's with its offsets.
export function Runs({ id, job }) {
  const pipeline = job.type === PIPELINE_TYPE;
  const [data, error] = useLive(async () => {
    const [runs, offsets] = await Promise.all([get(`/jobs/${id}/runs?limit=20`), pipeline ? get(`/jobs/${id}/offsets`) : null]);
    return { runs: runs.items, offsets };
  }, [id], (c) => c.job_id === id, 1000);
  return html`<section aria-labelledby="runs-h"><h2 id="runs-h">Runs <span class="muted">(${job.run_count} in all${job.run_count > 20 ? ", the last 20 shown" : ""})</span></h2><${ErrorBox} error=${error} />
    ${data && (data.runs.length === 0 ? html`<p class="muted">No run yet: Start makes run 1.</p>` : html`<div class="scroll"><table class="runs"><thead><tr><th scope="col">run</th><th scope="col">status</th><th scope="col">name</th><th scope="col">started</th><th scope="col">finished</th><th scope="col">metrics</th><th scope="col">error</th></tr></thead>
      <tbody>${data.runs.map((r) => html`<tr data-run=${r.run_count}><th scope="row">${r.run_count}</th><td><${Status} status=${r.status} /></td><td>${r.name || ""}</td>
        <td><${Time} ms=${r.started_at_ms} /></td><td><${Time} ms=${r.finished_at_ms} /></td>
        <td class="metrics">${metricSummary(r.metrics)}</td><td>${r.error ? html`<span class="error-text">${r.error.split("\n").slice(-2).join(" ")}</span>` : ""}</td></tr>`)}</tbody></table></div>
      ${data.runs.map((r) => html`<${RunDetails} key=${r.run_count} id=${id} run=${r} pipeline=${pipeline} />`)}`)}
    ${pipeline && data && html`<h3>Committed offsets <span class="muted">(where the next run starts)</span></h3><${Offsets} value=${data.offsets} />`}
  </section>`;
}

function Snapshots({ id }) {
  const [snaps, error] = usePoll(() => get(`/jobs/${id}/snapshots`), 5000, [id]);
  return html`<section aria-labelledby="snap-h"><h2 id="snap-h">Snapshots</h2><${ErrorBox} error=${error} />
    ${snaps && (snaps.items.length === 0 ? html`<p class="muted">None.</p>` : html`<div class="scroll"><table><thead><tr><th scope="col">id</th><th scope="col">run</th><th scope="col">exported as</th><th scope="col">taken</th><th scope="col">bytes</th></tr></thead>
      <tbody>${snaps.items.map((s) => html`<tr><th scope="row">${s.snapshot_id}</th><td>${s.run_count}</td><td>${s.name || "—"}</td><td><${Time} ms=${s.created_at_ms} /></td><td>${s.size_bytes}</td></tr>`)}</tbody></table></div>`)}
  </section>`;
}

export function JobPage({ id, who }) {
  const [data, error, reload, live] = useLive(async () => {
    const [job, events, reason] = await Promise.all([get(`/jobs/${id}`), get(`/jobs/${id}/events`), get(`/jobs/${id}/reason`)]);
    return { job, events: events.items, reason: reason.reason };
  }, [id], (c) => c.job_id === id, 150);
  if (!data) return html`<h1>Job ${short(id)}</h1><${ErrorBox} error=${error} />`;
  const { job, events, reason } = data;
  const pipeline = job.type === PIPELINE_TYPE;
  return html`<h1>${job.name || job.type} <span class="muted">${short(job.job_id)}</span> <span id="job-status"><${Status} status=${job.status} /></span> <${LiveBadge} live=${live} /></h1>
    <${ErrorBox} error=${error} />
    ${pipeline && html`<p><a href=${href(`/pipelines/${job.job_id}`)}>Pipeline: DAG and counters →</a></p>`}
    <dl class="facts">
      <dt>id</dt><dd><code>${job.job_id}</code></dd><dt>type</dt><dd>${job.type}</dd><dt>queue</dt><dd>${job.queue}</dd>
      <dt>why</dt><dd id="reason">${reason}</dd>
      <dt>scheduled</dt><dd><${Time} ms=${job.scheduled_at_ms} /></dd><dt>started</dt><dd><${Time} ms=${job.started_at_ms} /></dd>
      <dt>finished</dt><dd><${Time} ms=${job.finished_at_ms} /></dd>
      <dt>attempt</dt><dd>${job.attempt} (retries ${job.retries} of ${job.max_retries})</dd><dt>run</dt><dd>${job.run_count}</dd>
      <dt>project</dt><dd>${job.project}</dd>
      ${job.tags && job.tags.length > 0 && html`<dt>tags</dt><dd>${job.tags.map((t) => html`<a class="label" href=${href("/jobs", { tag: t })}>${t}</a>`)}</dd>`}
      ${job.pipeline_name && html`<dt>pipeline</dt><dd><a href=${href(`/published/${encodeURIComponent(job.pipeline_name)}`)}>${job.pipeline_name}</a> v${job.pipeline_version}</dd>`}
    </dl>
    <${Progress} value=${job.progress} details=${job.progress_details} />
    <${Buttons} job=${job} who=${who} reload=${reload} />
    <section aria-labelledby="tl-h"><h2 id="tl-h">Status timeline</h2>
      <ol class="timeline">${events.map((e) => html`<li>
        <${Time} ms=${e.at_ms} /> ${e.from_status ? html`<${Status} status=${e.from_status} /> → ` : ""}<${Status} status=${e.to_status} />${" "}
        <span class="muted">by ${!e.user_id ? "the system" : e.user_id === who.user_id ? `you (${who.user_name})` : html`<span title=${`user ${e.user_id}`}>user ${short(e.user_id)}</span>`}, attempt ${e.attempt}</span>${e.reason ? html` — ${e.reason}` : ""}</li>`)}</ol>
    </section>
    ${job.error && html`<section aria-labelledby="err-h"><h2 id="err-h">Error</h2><pre class="traceback" tabindex="0">${job.error}</pre></section>`}
    <div class="two">
      <section aria-labelledby="params-h"><h2 id="params-h">Params</h2><${Json} label="params" value=${pipeline ? { ...job.params, pipeline: "(pickled pipeline)" } : job.params} /></section>
      <section aria-labelledby="result-h"><h2 id="result-h">Result</h2><${Json} label="result" value=${job.result} /></section>
    </div>
    <${Logs} id=${id} live=${!FINAL.has(job.status)} />
    <${Runs} id=${id} job=${job} />
    <${Snapshots} id=${id} />`;
}
