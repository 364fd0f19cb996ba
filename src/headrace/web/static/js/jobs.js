// Jobs: filters, sort, one page at a time, live by server-sent events, bulk cancel/suspend/resume.
import { get, post, query } from "/ui/js/api.js";
import { useLive } from "/ui/js/live.js";
import { ErrorBox, LiveBadge, STATUSES, Status, Time, href, html, short, usePoll } from "/ui/js/ui.js";
import { useState } from "/ui/vendor/preact-htm.module.js";

const LIMIT = 20;
// Columns in the order shown (status early: a phone sees it without scrolling).
const SORTABLE = [["status", "status"], ["progress", "progress"], ["type", "type"], ["scheduled_at", "scheduled"], ["updated_at", "updated"]];
const FIELDS = ["status", "type", "tag", "project", "queue", "q", "since", "until"];
const FILTERS = [...FIELDS, "order", "page"];

function toMs(local) { return local ? String(new Date(local).getTime()) : ""; }

function go(params) {
  location.hash = href("/jobs", params);
}

function Filters({ params, types, projects }) {
  const submit = (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const next = {};
    for (const k of FIELDS) next[k] = (form.get(k) || "").trim();
    next.order = params.get("order") || "";
    go(next);
  };
  // Uncontrolled fields (default values): a poll's re-render must not undo what is typed.
  const at = (k) => params.get(k) || "";
  const options = (values, chosen) => values.map((v) => html`<option value=${v} defaultSelected=${v === chosen}>${v}</option>`);
  return html`<form class="filters" onSubmit=${submit} aria-label="Filter jobs">
    <label>Status <select name="status"><option value="">any</option>${options(STATUSES, at("status"))}</select></label>
    <label>Type <select name="type"><option value="">any</option>${options(types || [], at("type"))}</select></label>
    <label>Tag <input name="tag" size="10" defaultValue=${at("tag")} title="a tag; its children (tag/...) match too" /></label>
    <label>Project <select name="project"><option value="">any</option>${options(projects || [], at("project"))}</select></label>
    <label>Queue <input name="queue" size="10" defaultValue=${at("queue")} /></label>
    <label>Name or type contains <input name="q" type="search" size="14" defaultValue=${at("q")} /></label>
    <label>Scheduled from <input name="since" type="datetime-local" defaultValue=${at("since")} /></label>
    <label>to <input name="until" type="datetime-local" defaultValue=${at("until")} /></label>
    <button type="submit">Apply</button>
    <a href="#/jobs">Clear</a>
  </form>`;
}

const ACTIONS = [["cancel", "Cancel"], ["suspend", "Suspend"], ["resume", "Resume"]];

export function Jobs({ params, who, pipelines }) {
  const key = FILTERS.map((k) => params.get(k) || "").join("|");
  const page = Number(params.get("page") || 1);
  const order = params.get("order") || "-scheduled_at";
  const [selected, setSelected] = useState(new Set());
  const [outcome, setOutcome] = useState(null);
  const [types] = usePoll(async () => (await get("/job-types?limit=100")).items.map((t) => t.type_id), 0, []);
  const [projects] = usePoll(async () => (await get("/projects")).items.map((p) => p.name), 0, []);
  // Reloaded when any of the tenant's jobs changes: it may enter or leave this page.
  const [data, error, reload, live] = useLive(() => get(`/job-search${query({
    status: params.get("status"), type: params.get("type"), tag: params.get("tag"), project: params.get("project"),
    queue: params.get("queue"), q: params.get("q"), since_ms: toMs(params.get("since")), until_ms: toMs(params.get("until")),
    order, page, limit: LIMIT,
  })}`), [key], () => true, 1000);
  const here = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || ""]));
  const sortBy = (field) => go({ ...here, order: order === `-${field}` ? field : `-${field}`, page: "" });
  const toggle = (id) => { const s = new Set(selected); s.has(id) ? s.delete(id) : s.add(id); setSelected(s); };
  const items = data ? data.items : [];
  const allOn = items.length > 0 && items.every((j) => selected.has(j.job_id));
  const act = async (action) => {
    const ids = [...selected];
    const refused = [];
    let done = 0;
    for (const id of ids) {
      try { await post(`/jobs/${id}/${action}`); done++; } catch (e) { refused.push(`${short(id)}: ${e.message}`); }
    }
    setOutcome({ action, done, refused });
    setSelected(new Set());
    reload();
  };
  const canWrite = who.role !== "viewer";
  const pages = data ? Math.max(1, Math.ceil(data.total / LIMIT)) : 1;
  return html`<h1>${pipelines ? "Pipeline jobs" : "Jobs"} <${LiveBadge} live=${live} /></h1>
    ${!pipelines && html`<${Filters} key=${key} params=${params} types=${types} projects=${projects} />`}
    <${ErrorBox} error=${error} />
    <div class="bulk" role="group" aria-label="Act on the selected jobs">
      <span>${selected.size} selected</span>
      ${ACTIONS.map(([a, label]) => html`<button type="button" data-action=${a} disabled=${!canWrite || selected.size === 0}
        title=${canWrite ? `${label} the selected jobs` : `role ${who.role} may not ${a}`} onClick=${() => act(a)}>${label}</button>`)}
    </div>
    ${outcome && html`<div class="outcome" role="status">
      <p>${outcome.action}: ${outcome.done} done${outcome.refused.length ? `, ${outcome.refused.length} refused` : ""}.</p>
      ${outcome.refused.length > 0 && html`<ul class="error">${outcome.refused.map((r) => html`<li>${r}</li>`)}</ul>`}</div>`}
    <div class="scroll"><table class="jobs">
      <thead><tr>
        <th scope="col"><input type="checkbox" aria-label="Select every job on this page" checked=${allOn}
          onChange=${() => setSelected(allOn ? new Set() : new Set(items.map((j) => j.job_id)))} /></th>
        <th scope="col">job</th>
        ${SORTABLE.map(([f, label]) => html`<th scope="col" aria-sort=${order === f ? "ascending" : order === `-${f}` ? "descending" : "none"}>
          <button type="button" class="link" onClick=${() => sortBy(f)}>${label}${order === f ? " ▲" : order === `-${f}` ? " ▼" : ""}</button></th>`)}
        <th scope="col">queue</th><th scope="col">tags</th>
      </tr></thead>
      <tbody>${items.map((j) => html`<tr data-job=${j.job_id}>
        <td><input type="checkbox" aria-label=${`Select job ${short(j.job_id)}`} checked=${selected.has(j.job_id)} onChange=${() => toggle(j.job_id)} /></td>
        <th scope="row"><a href=${href(`/${pipelines ? "pipelines" : "jobs"}/${j.job_id}`)}>${j.name || short(j.job_id)}</a></th>
        <td><${Status} status=${j.status} /></td><td>${Math.round(j.progress * 100)}%</td><td>${j.type}</td>
        <td><${Time} ms=${j.scheduled_at_ms} /></td><td><${Time} ms=${j.updated_at_ms} /></td><td>${j.queue}</td>
        <td class="tags">${(j.tags || []).map((t) => html`<a class="label" href=${href("/jobs", { tag: t })}>${t}</a>`)}${j.project !== "default" ? html` <span class="muted">in ${j.project}</span>` : ""}</td></tr>`)}</tbody>
    </table></div>
    ${data && items.length === 0 && html`<p>No job matches.</p>`}
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled=${page <= 1} onClick=${() => go({ ...here, page: String(page - 1) })}>Previous</button>
      <span>Page ${page} of ${pages} (${data ? data.total : "…"} jobs)</span>
      <button type="button" disabled=${page >= pages} onClick=${() => go({ ...here, page: String(page + 1) })}>Next</button>
    </nav>`;
}
