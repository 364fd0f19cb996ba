// Data: the tenant's Lists, Maps and Streams with sizes; a peek at entries; stream offsets.
import { get, query } from "/ui/js/api.js";
import { ErrorBox, href, html, usePoll } from "/ui/js/ui.js";

const PEEK = 20;
const show = (v) => JSON.stringify(v);

function Peek({ kind, name, params }) {
  const partition = Number(params.get("partition") || 0);
  const offset = Number(params.get("offset") || 0);
  const [data, error] = usePoll(async () => {
    const n = encodeURIComponent(name);
    if (kind === "list") return get(`/lists/${n}${query({ offset, limit: PEEK })}`);
    if (kind === "map") return get(`/maps/${n}`);
    return get(`/streams/${n}${query({ partition, offset, limit: PEEK })}`);
  }, 2000, [kind, name, partition, offset]);
  const base = `/data/${kind}/${encodeURIComponent(name)}`;
  return html`<section aria-labelledby="peek-h"><h2 id="peek-h">${kind} <code>${name}</code></h2>
    <${ErrorBox} error=${error} />
    ${data && kind === "list" && html`<p>${data.total} item(s); showing ${data.offset}..${data.offset + data.items.length - 1}.</p>
      <ol start=${data.offset} class="peek">${data.items.map((i) => html`<li><code>${show(i)}</code></li>`)}</ol>
      <nav class="pager" aria-label="List pages">
        <a href=${href(base, { offset: String(Math.max(0, offset - PEEK)) })}>Previous</a>
        <a href=${href(base, { offset: String(offset + PEEK) })}>Next</a></nav>`}
    ${data && kind === "map" && html`<p>${data.total} entr${data.total === 1 ? "y" : "ies"}; showing the first ${Math.min(PEEK, data.total)}.</p>
      <div class="scroll"><table><thead><tr><th scope="col">key</th><th scope="col">value</th></tr></thead>
      <tbody>${data.items.slice(0, PEEK).map((e) => html`<tr><th scope="row"><code>${show(e.key)}</code></th><td><code>${show(e.value)}</code></td></tr>`)}</tbody></table></div>`}
    ${data && kind === "stream" && html`<p>${data.partitions} partition(s)${data.closed ? ", closed" : ""}.</p>
      <div class="scroll"><table class="offsets"><thead><tr><th scope="col">partition</th><th scope="col">end offset</th><th scope="col"></th></tr></thead>
      <tbody>${data.end_offsets.map((end, p) => html`<tr><th scope="row">${p}</th><td>${end}</td>
        <td><a href=${href(base, { partition: String(p) })} aria-current=${p === partition ? "true" : undefined}>peek partition ${p}</a></td></tr>`)}</tbody></table></div>
      <h3>Partition ${partition}, from offset ${offset}</h3>
      <div class="scroll"><table><thead><tr><th scope="col">offset</th><th scope="col">key</th><th scope="col">value</th></tr></thead>
      <tbody>${data.items.map((e) => html`<tr><th scope="row">${e.offset}</th><td><code>${show(e.key)}</code></td><td><code>${show(e.value)}</code></td></tr>`)}</tbody></table></div>
      <nav class="pager" aria-label="Stream pages"><a href=${href(base, { partition: String(partition), offset: String(data.next_offset) })}>Next entries</a></nav>`}
  </section>`;
}

export function Data({ parts, params }) {
  const [data, error] = usePoll(() => get("/data"), 3000, []);
  return html`<h1>Data</h1><${ErrorBox} error=${error} />
    ${data && (data.items.length === 0 ? html`<p>No List, Map or Stream yet.</p>` : html`<div class="scroll"><table class="structures">
      <thead><tr><th scope="col">kind</th><th scope="col">name</th><th scope="col">size</th><th scope="col">partitions</th><th scope="col">end offsets</th></tr></thead>
      <tbody>${data.items.map((d) => html`<tr data-structure=${`${d.kind}:${d.name}`}><td>${d.kind}</td>
        <th scope="row"><a href=${href(`/data/${d.kind}/${encodeURIComponent(d.name)}`)}>${d.name}</a></th><td>${d.size}</td>
        <td>${d.kind === "stream" ? d.partitions : "—"}</td><td>${d.kind === "stream" ? d.end_offsets.join(", ") + (d.closed ? " (closed)" : "") : "—"}</td></tr>`)}</tbody></table></div>`)}
    ${parts.length === 2 && html`<${Peek} kind=${parts[0]} name=${parts[1]} params=${params} />`}`;
}
