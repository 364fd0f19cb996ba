"""The dashboard at ``/``: a placeholder page that lists the tenant's latest jobs."""

from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Headrace</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd}
code{background:#f4f4f4;padding:0 .2rem}
</style></head>
<body>
<h1>Headrace</h1>
<p>The dashboard is a placeholder. The API: <a href="/docs">/docs</a>,
<a href="/openapi.json">/openapi.json</a>, <a href="/metrics">/metrics</a>,
<a href="/healthz">/healthz</a>.</p>
<p><label>Token <input id="token" type="password" size="50"></label>
<button onclick="load()">Show jobs</button></p>
<table><thead><tr><th>job</th><th>type</th><th>status</th><th>progress</th></tr></thead>
<tbody id="jobs"></tbody></table>
<script>
const box = document.getElementById("token");
box.value = localStorage.getItem("headrace.token") || "";
async function load() {
  localStorage.setItem("headrace.token", box.value);
  const headers = box.value ? {Authorization: "Bearer " + box.value} : {};
  const answer = await fetch("/jobs?limit=50", {headers});
  const body = await answer.json();
  const rows = document.getElementById("jobs");
  rows.replaceChildren();
  for (const job of body.items || []) {
    const tr = document.createElement("tr");
    for (const v of [job.job_id, job.type, job.status, Math.round(job.progress * 100) + "%"]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    rows.appendChild(tr);
  }
  if (!answer.ok) { rows.textContent = body.detail; }
}
</script>
</body></html>
"""
