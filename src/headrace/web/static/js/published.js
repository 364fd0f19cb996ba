// Published pipelines: the list, one pipeline's commit history (messages, labels) and a diff
// between two of its commits.
import { ROUTES, get, query } from "/ui/js/api.js";
import { ErrorBox, Status, Time, href, html, short, usePoll } from "/ui/js/ui.js";

const base = (name) => `${ROUTES.pipelineCommits}/${encodeURIComponent(name)}`;

export function PublishedList() {
  const [data, error] = usePoll(() => get(ROUTES.pipelineCommits), 5000, []);
  return html`<section aria-labelledby="published-h"><h2 id="published-h">Published pipelines</h2><${ErrorBox} error=${error} />
    ${data && (data.items.length === 0 ? html`<p class="muted">None published yet (<code>POST /pipelines</code>).</p>`
      : html`<div class="scroll"><table class="published"><thead><tr><th scope="col">pipeline</th><th scope="col">project</th><th scope="col">latest</th><th scope="col">labels</th><th scope="col">published</th></tr></thead>
        <tbody>${data.items.map((p) => html`<tr data-pipeline=${p.name}><th scope="row"><a href=${href(`/published/${encodeURIComponent(p.name)}`)}>${p.name}</a></th>
          <td>${p.project}</td><td>v${p.latest_version}</td>
          <td>${Object.entries(p.labels).map(([l, v]) => html`<span class="label">${l} → v${v}</span>`)}</td><td><${Time} ms=${p.created_at_ms} /></td></tr>`)}</tbody></table></div>`)}
  </section>`;
}

function Diff({ name, a, b }) {
  const [data, error] = usePoll(() => get(`${base(name)}/diff${query({ a, b })}`), 0, [name, a, b]);
  const list = (items, empty) => (items.length ? html`<ul>${items.map((i) => html`<li><code>${i}</code></li>`)}</ul>` : html`<p class="muted">${empty}</p>`);
  const edge = (e) => `${e[0]} → ${e[1]}`;
  return html`<section aria-labelledby="diff-h" id="diff"><h3 id="diff-h">From v${a} to v${b}</h3><${ErrorBox} error=${error} />
    ${data && html`<div class="diff">
      <div class="added"><h4><span aria-hidden="true">+</span> Stages added</h4>${list(data.added, "none")}</div>
      <div class="removed"><h4><span aria-hidden="true">−</span> Stages removed</h4>${list(data.removed, "none")}</div>
      <div class="changed"><h4><span aria-hidden="true">~</span> Stages changed</h4>${list(data.changed, "none")}</div>
      <div class="added"><h4><span aria-hidden="true">+</span> Edges added</h4>${list(data.edges_added.map(edge), "none")}</div>
      <div class="removed"><h4><span aria-hidden="true">−</span> Edges removed</h4>${list(data.edges_removed.map(edge), "none")}</div>
    </div>`}
  </section>`;
}

// The commit history of one published pipeline; a form picks two commits to compare.
export function Commits({ name, params, path }) {
  const [data, error] = usePoll(async () => {
    const [commits, labels] = await Promise.all([get(`${base(name)}/commits`), get(`${base(name)}/labels`)]);
    return { commits: commits.items, labels };
  }, 5000, [name]);
  const a = params.get("a");
  const b = params.get("b");
  const compare = (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    location.hash = href(path, { a: form.get("a"), b: form.get("b") });
  };
  if (error && error.status === 404) return html`<section aria-labelledby="commits-h"><h2 id="commits-h">Commit history</h2><p class="muted">${error.message}</p></section>`;
  const commits = data ? data.commits : [];
  const versions = commits.map((c) => c.version);
  const option = (v, chosen) => html`<option value=${v} defaultSelected=${String(v) === String(chosen)}>v${v}</option>`;
  return html`<section aria-labelledby="commits-h"><h2 id="commits-h">Commit history of <code>${name}</code></h2><${ErrorBox} error=${error} />
    ${data && html`<p>Labels: ${Object.keys(data.labels).length === 0 ? html`<span class="muted">none</span>`
      : Object.entries(data.labels).map(([l, v]) => html`<span class="label">${l} → v${v}</span>`)}</p>
    <ol class="commits" reversed>${commits.map((c) => html`<li data-version=${c.version}>
      <strong>v${c.version}</strong> ${c.message ? html`<span class="message">${c.message}</span>` : html`<span class="muted">(no message)</span>`}
      ${c.labels.map((l) => html`<span class="label">${l}</span>`)}
      <span class="muted">${" "}— <${Time} ms=${c.created_at_ms} />, by ${short(c.user_id)}, ${c.dag.vertices.length} stage(s)</span></li>`)}</ol>
    ${versions.length >= 2 && html`<form class="filters" onSubmit=${compare} aria-label="Compare two commits" key=${`${a}-${b}`}>
      <label>From <select name="a">${versions.map((v) => option(v, a || versions[1]))}</select></label>
      <label>to <select name="b">${versions.map((v) => option(v, b || versions[0]))}</select></label>
      <button type="submit">Compare</button></form>`}
    ${a && b && html`<${Diff} name=${name} a=${a} b=${b} />`}`}
  </section>`;
}

export function PublishedPage({ name, params }) {
  const [jobs, error] = usePoll(() => get(`/job-definitions${query({ pipeline: name })}`), 5000, [name]);
  return html`<h1>Pipeline <code>${name}</code></h1>
    <${Commits} name=${name} params=${params} path=${`/published/${encodeURIComponent(name)}`} />
    <section aria-labelledby="pinned-h"><h2 id="pinned-h">Jobs of this pipeline</h2><${ErrorBox} error=${error} />
      ${jobs && (jobs.items.length === 0 ? html`<p class="muted">No job runs it yet.</p>` : html`<div class="scroll"><table>
        <thead><tr><th scope="col">job</th><th scope="col">status</th><th scope="col">commit</th><th scope="col">runs</th></tr></thead>
        <tbody>${jobs.items.map((j) => html`<tr data-job=${j.job_id}><th scope="row"><a href=${href(`/pipelines/${j.job_id}`)}>${j.name || short(j.job_id)}</a></th>
          <td><${Status} status=${j.status} /></td><td>v${j.pipeline_version}</td><td>${j.run_count}</td></tr>`)}</tbody></table></div>`)}
    </section>`;
}
