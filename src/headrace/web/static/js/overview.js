// Overview: jobs by status, last hour's throughput, queues, workers, stuck jobs.
import { get } from "/ui/js/api.js";
import { Chart } from "/ui/js/chart.js";
import { ErrorBox, STATUSES, Status, Time, age, href, html, short, usePoll } from "/ui/js/ui.js";

export function Overview() {
  const [data, error] = usePoll(async () => {
    const [overview, queues, workers] = await Promise.all([get("/overview"), get("/queues"), get("/workers")]);
    return { overview, queues: queues.items, workers: workers.items };
  }, 2000, []);
  if (!data) return html`<h1>Overview</h1><${ErrorBox} error=${error} />${!error && html`<p class="loading">Loading…</p>`}`;
  const { overview, queues, workers } = data;
  const now = overview.at_ms;
  const finished = overview.throughput.reduce((a, m) => a + m.finished, 0);
  const failed = overview.throughput.reduce((a, m) => a + m.failed, 0);
  return html`<h1>Overview</h1>
    <${ErrorBox} error=${error} />
    <section aria-labelledby="counts-h"><h2 id="counts-h">Jobs by status <span class="muted">(${overview.total} in all)</span></h2>
      <ul class="counts">
        ${STATUSES.map((s) => html`<li><a class="count" href=${href("/jobs", { status: s })} data-status=${s}>
          <span class="n">${overview.counts[s] || 0}</span><${Status} status=${s} /></a></li>`)}
      </ul>
    </section>
    <section aria-labelledby="tp-h"><h2 id="tp-h">Throughput, last hour</h2>
      <p id="throughput-summary">${finished} job(s) finished in the last 60 minutes, ${failed} of them failed or timed out.</p>
      <${Chart} title="Jobs finished per minute" times=${overview.throughput.map((m) => m.at_ms)}
        series=${[{ label: "finished", values: overview.throughput.map((m) => m.finished) },
                  { label: "failed", values: overview.throughput.map((m) => m.failed) }]} />
    </section>
    <section aria-labelledby="stuck-h"><h2 id="stuck-h">Stuck jobs</h2>
      ${overview.stuck.length === 0 ? html`<p>None: no held job has an expired lease, and none is retrying in a storm.</p>`
        : html`<ul class="stuck">${overview.stuck.map((j) => html`<li class="warn">
            <span aria-hidden="true">⚠</span> <a href=${href(`/jobs/${j.job_id}`)}>${j.name || j.type} ${short(j.job_id)}</a>
            <${Status} status=${j.status} /> ${j.retries >= 3 ? `retried ${j.retries} times` : "lease expired"}</li>`)}</ul>`}
    </section>
    <section aria-labelledby="q-h"><h2 id="q-h">Queues</h2>
      <div class="scroll"><table>
        <thead><tr><th scope="col">queue</th><th scope="col">capacity</th><th scope="col">workers</th><th scope="col">running</th><th scope="col" title="held by a worker for a slot">locked</th><th scope="col">waiting</th><th scope="col">oldest waiting</th></tr></thead>
        <tbody>${queues.map((q) => html`<tr>
          <th scope="row"><a href=${href("/jobs", { queue: q.name })}>${q.name}</a></th><td>${q.capacity}</td><td>${q.workers}</td>
          <td>${q.running}</td><td>${q.locked}</td><td>${q.waiting}</td>
          <td>${overview.oldest_waiting_ms[q.name] ? html`<span title="since it was scheduled">${age(overview.oldest_waiting_ms[q.name], now)}</span>` : "—"}</td></tr>`)}</tbody>
      </table></div>
    </section>
    <section aria-labelledby="w-h"><h2 id="w-h">Workers</h2>
      <div class="scroll"><table>
        <thead><tr><th scope="col">worker</th><th scope="col">host</th><th scope="col">pid</th><th scope="col">queues</th><th scope="col">running</th><th scope="col" title="held for a slot">locked</th><th scope="col">load</th><th scope="col">started</th><th scope="col">heartbeat age</th><th scope="col">state</th></tr></thead>
        <tbody>${workers.map((w) => html`<tr class=${w.alive ? "" : "warn"}>
          <th scope="row"><code>${short(w.worker_id)}</code></th><td>${w.hostname}</td><td>${w.pid}</td>
          <td>${Object.entries(w.queues).map(([k, v]) => `${k}×${v}`).join(", ")}</td>
          <td>${w.running}</td><td>${w.locked}</td><td>${Math.round(w.load * 100)}%</td>
          <td><${Time} ms=${w.started_at_ms} /></td><td class="heartbeat">${age(w.heartbeat_ms, now)}</td>
          <td>${w.alive ? "alive" : html`<span aria-hidden="true">⚠</span> stale`}</td></tr>`)}</tbody>
      </table></div>
    </section>`;
}
