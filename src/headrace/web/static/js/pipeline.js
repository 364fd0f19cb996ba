// A pipeline job: its plan drawn as a DAG (dagre), per-vertex counters and charts, runs, commits.
import dagre from "/ui/vendor/dagre.esm.js";
import { ROUTES, get } from "/ui/js/api.js";
import { Chart } from "/ui/js/chart.js";
import { Runs } from "/ui/js/job.js";
import { Commits } from "/ui/js/published.js";
import { ErrorBox, Status, age, href, html, short, usePoll, utc } from "/ui/js/ui.js";
import { useRef } from "/ui/vendor/preact-htm.module.js";

const KEEP = 300; // samples kept per chart

function counters(vertex, stages) {
  const m = (name) => stages[name] || { received: 0, emitted: 0, kind: "" };
  const body = vertex.stages.filter((_, i) => vertex.kinds[i] !== "sink");
  // A source receives nothing: what it reads is what it emits.
  const head = m(vertex.stages[0]);
  const received = vertex.kinds[0] === "source" ? head.emitted : head.received;
  const emitted = body.length ? m(body[body.length - 1]).emitted : 0;
  // The event time the vertex's watermark reached (kept on its first stage), if any.
  const watermark = typeof head.watermark_ms === "number" ? head.watermark_ms : null;
  return { received, emitted, watermark };
}

// How far a vertex's watermark is behind this browser's clock (event times in ms).
function Lag({ watermark, at }) {
  if (watermark === null) return html`<span class="muted">—</span>`;
  return html`<span class="lag" title=${`watermark at ${utc(watermark)}`}>${age(watermark, at)}</span>`;
}

function Dag({ plan, values }) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 30, ranksep: 70, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const v of plan.vertices) {
    const lines = Math.min(v.stages.length, 6);
    const width = Math.max(160, ...v.stages.map((s, i) => (s.length + v.kinds[i].length) * 7.5 + 40));
    g.setNode(String(v.id), { width, height: 44 + lines * 15 });
  }
  for (const e of plan.edges) {
    const label = e.combine ? `${e.routing} (${e.combine})` : e.routing;
    g.setEdge(String(e.src), String(e.dst), { label, width: label.length * 6.5, height: 14 });
  }
  dagre.layout(g);
  const graph = g.graph();
  return html`<svg class="dag" role="img" aria-labelledby="dag-title dag-desc" viewBox=${`0 0 ${graph.width} ${graph.height}`}
      width=${graph.width} style=${`max-width:100%;height:auto`}>
    <title id="dag-title">Execution plan</title>
    <desc id="dag-desc">${plan.vertices.length} vertices after fusion, ${plan.edges.length} edges; the table below lists them.</desc>
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" /></marker></defs>
    ${g.edges().map((e) => {
      const edge = g.edge(e);
      const d = edge.points.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ");
      return html`<g class="edge"><path d=${d} marker-end="url(#arrow)" /><text x=${edge.x} y=${edge.y} text-anchor="middle">${edge.label}</text></g>`;
    })}
    ${plan.vertices.map((v) => {
      const n = g.node(String(v.id));
      const c = values[v.id] || { received: 0, emitted: 0 };
      return html`<g class="vertex" data-vertex=${v.id} transform=${`translate(${n.x - n.width / 2},${n.y - n.height / 2})`}>
        <rect width=${n.width} height=${n.height} rx="6" />
        <text x="8" y="16" class="vname">${v.name} ×${v.parallelism}</text>
        ${v.stages.slice(0, 6).map((s, i) => html`<text x="8" y=${32 + i * 15} class="stage">${i === 0 ? "" : "→ "}${s} (${v.kinds[i]})</text>`)}
        <text x="8" y=${n.height - 6} class="counts">in ${c.received} · out ${c.emitted}</text>
      </g>`;
    })}
  </svg>`;
}

// A job from a published pipeline shows that pipeline's commits; a submitted one says why not.
function commitHistory(job, params, id) {
  if (job.pipeline_name) return html`<${Commits} name=${job.pipeline_name} params=${params} path=${`/pipelines/${id}`} />`;
  return html`<section aria-labelledby="commits-h"><h2 id="commits-h">Commit history</h2><p class="muted">This job was submitted as a pipeline object, not defined from a published pipeline, so it has no commits. Publish with <code>POST /pipelines</code> and define jobs from it (<code>POST /job-definitions</code>) to see its history and diffs here.</p></section>`;
}

export function PipelinePage({ id, params }) {
  const history = useRef({ times: [], series: {} });
  const [plan, planError] = usePoll(() => get(`/jobs/${id}/plan`), 0, [id]);
  const [live, error] = usePoll(async () => {
    const [job, metrics] = await Promise.all([get(`/jobs/${id}`), get(`${ROUTES.pipelineJobs}/${id}/metrics`)]);
    return { job, metrics, at: Date.now() };
  }, 1000, [id]);
  if (!plan || !live) return html`<h1>Pipeline job ${short(id)}</h1><${ErrorBox} error=${planError || error} />`;
  if (plan.error) return html`<h1>Pipeline job ${short(id)}</h1><p class="error" role="alert">No plan to draw: ${plan.error}</p><${Runs} id=${id} job=${live.job} />${commitHistory(live.job, params, id)}`;
  const values = {};
  for (const v of plan.vertices) values[v.id] = counters(v, live.metrics.stages || {});
  const h = history.current;
  if (h.times[h.times.length - 1] !== live.at) {
    h.times.push(live.at);
    for (const v of plan.vertices) {
      const s = (h.series[v.id] ||= { received: [], emitted: [], lag: [] });
      const wm = values[v.id].watermark;
      s.received.push(values[v.id].received); s.emitted.push(values[v.id].emitted);
      s.lag.push(wm === null ? null : Math.max(0, (live.at - wm) / 1000));
      if (s.received.length > KEEP) { s.received.shift(); s.emitted.shift(); s.lag.shift(); }
    }
    if (h.times.length > KEEP) h.times.shift();
  }
  const rate = (v) => {
    const s = h.series[v.id]; const n = h.times.length;
    if (!s || n < 2) return "—";
    return ((s.emitted[n - 1] - s.emitted[n - 2]) / ((h.times[n - 1] - h.times[n - 2]) / 1000)).toFixed(1);
  };
  const job = live.job;
  const timed = plan.vertices.filter((v) => values[v.id].watermark !== null);
  return html`<h1>Pipeline job ${job.name || short(job.job_id)} <${Status} status=${job.status} /></h1>
    <p><a href=${href(`/jobs/${id}`)}>Job page: logs, events, actions →</a></p>
    <${ErrorBox} error=${error} />
    <p>Received ${live.metrics.received_count}, emitted ${live.metrics.emitted_count}, late dropped ${live.metrics.late_dropped_count}; local parallelism ${plan.local_parallelism}.</p>
    <section aria-labelledby="dag-h"><h2 id="dag-h">Plan (vertices after fusion)</h2><div class="scroll"><${Dag} plan=${plan} values=${values} /></div></section>
    <section aria-labelledby="vx-h"><h2 id="vx-h">Vertices</h2><div class="scroll"><table class="vertices">
      <thead><tr><th scope="col">vertex</th><th scope="col">stages</th><th scope="col">parallelism</th><th scope="col">received</th><th scope="col">emitted</th><th scope="col">emitted/s</th><th scope="col">watermark lag</th></tr></thead>
      <tbody>${plan.vertices.map((v) => html`<tr data-vertex=${v.id}><th scope="row">${v.name}</th><td>${v.stages.join(" → ")}</td><td>${v.parallelism}</td>
        <td class="received">${values[v.id].received}</td><td class="emitted">${values[v.id].emitted}</td><td>${rate(v)}</td>
        <td class="lag-cell"><${Lag} watermark=${values[v.id].watermark} at=${live.at} /></td></tr>`)}</tbody></table></div>
      <p class="muted">Edges: ${plan.edges.map((e) => `${e.src} → ${e.dst} ${e.routing}${e.combine ? ` (${e.combine})` : ""}`).join("; ") || "none"}.</p>
    </section>
    <section aria-labelledby="charts-h"><h2 id="charts-h">Counters over time (since this page opened)</h2><div class="charts">
      ${plan.vertices.map((v) => html`<${Chart} title=${`${v.name}: received and emitted`} times=${h.times}
        series=${[{ label: "received", values: h.series[v.id].received }, { label: "emitted", values: h.series[v.id].emitted }]} height=${150} />`)}
    </div></section>
    ${(timed.length > 0 || plan.vertices.some((v) => v.streaming)) && html`<section aria-labelledby="lag-h"><h2 id="lag-h">Watermark lag</h2>
      ${timed.length > 0 ? html`<div class="charts"><${Chart} key=${timed.map((v) => v.id).join(",")} title="Watermark lag (s) behind this browser's clock" times=${h.times}
        series=${timed.map((v) => ({ label: v.name, values: h.series[v.id].lag }))} height=${150} /></div>`
        : html`<p class="muted">No watermark yet: a stage has one once its source has timestamps (<code>with_timestamps</code>) and data.</p>`}
    </section>`}
    <${Runs} id=${id} job=${job} />
    ${commitHistory(job, params, id)}`;
}
