// The dashboard's shell: sign-in, navigation and the hash router (#/jobs/ID...).
import { render, useEffect, useState } from "/ui/vendor/preact-htm.module.js";
import { ApiError, get, setToken, token, whenUnauthenticated } from "/ui/js/api.js";
import { html } from "/ui/js/ui.js";
import { Overview } from "/ui/js/overview.js";
import { Jobs } from "/ui/js/jobs.js";
import { JobPage } from "/ui/js/job.js";
import { PipelinePage } from "/ui/js/pipeline.js";
import { Data } from "/ui/js/data.js";
import { PublishedList, PublishedPage } from "/ui/js/published.js";

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, q] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(q || "") };
}

function SignIn({ message, onSignedIn }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState(message || "");
  const submit = async (e) => {
    e.preventDefault();
    setToken(value.trim());
    try {
      onSignedIn(await get("/whoami"));
    } catch (err) {
      setToken("");
      setError(err instanceof ApiError && err.status === 401
        ? `That token was refused: ${err.message}` : String(err.message || err));
    }
  };
  return html`<main id="main" class="signin">
    <h1>Headrace</h1>
    <form onSubmit=${submit}>
      <h2>Sign in</h2>
      <p>Paste an API token (from <code>headrace tokens create</code>). It is kept in this
      browser tab only, and sent to this server only.</p>
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="off" required
        value=${value} onInput=${(e) => setValue(e.target.value)} />
      <button type="submit">Sign in</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  </main>`;
}

const NAV = [["/", "Overview"], ["/jobs", "Jobs"], ["/pipelines", "Pipelines"], ["/data", "Data"]];

function Shell({ who, route, onSignOut }) {
  const top = route.parts[0] || "";
  let page;
  if (top === "jobs" && route.parts[1]) page = html`<${JobPage} id=${route.parts[1]} who=${who} />`;
  else if (top === "jobs") page = html`<${Jobs} params=${route.params} who=${who} />`;
  else if (top === "pipelines" && route.parts[1]) page = html`<${PipelinePage} id=${route.parts[1]} params=${route.params} who=${who} />`;
  else if (top === "pipelines") {
    page = html`<${Jobs} params=${new URLSearchParams({ ...Object.fromEntries(route.params), type: "headrace.pipeline" })} who=${who} pipelines=${true} />
      <${PublishedList} />`;
  } else if (top === "published" && route.parts[1]) page = html`<${PublishedPage} name=${route.parts[1]} params=${route.params} />`;
  else if (top === "data") page = html`<${Data} parts=${route.parts.slice(1)} params=${route.params} />`;
  else page = html`<${Overview} />`;
  const current = top === "" ? "/" : top === "published" ? "/pipelines" : `/${top}`;
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">Headrace</a>
      <nav aria-label="Main"><ul>
        ${NAV.map(([path, label]) => html`<li><a href=${`#${path}`} aria-current=${current === path ? "page" : undefined}>${label}</a></li>`)}
      </ul></nav>
      <div class="who">
        <span title=${`tenant ${who.tenant_id}`}>${who.user_name}@${who.tenant_name}</span>
        <span class=${`role role-${who.role}`}>${who.role}</span>
        ${token() && html`<button type="button" class="link" onClick=${onSignOut}>Sign out</button>`}
      </div>
    </header>
    ${who.role === "viewer" && html`<p class="note" role="note">Role <strong>viewer</strong>: you may read everything here, but not cancel, suspend, resume, restart, delete or export; those buttons are disabled.</p>`}
    <main id="main" tabindex="-1">${page}</main>
    <footer class="foot"><a href="/docs">API docs</a> · <a href="/openapi.json">OpenAPI</a> · <a href="/metrics">Prometheus metrics</a></footer>`;
}

function App() {
  const [who, setWho] = useState(null);
  const [signIn, setSignIn] = useState(null); // null: checking; else the message to show
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const changed = () => setRoute(parseHash());
    addEventListener("hashchange", changed);
    whenUnauthenticated((err) => {
      const had = token();
      setToken("");
      setWho(null);
      setSignIn(had ? `Signed out (401): ${err.message}. Sign in again.` : "");
    });
    get("/whoami").then(setWho).catch((err) => {
      if (!(err instanceof ApiError && err.status === 401)) setSignIn(String(err.message));
    });
    return () => removeEventListener("hashchange", changed);
  }, []);
  if (who) {
    return html`<${Shell} who=${who} route=${route} onSignOut=${() => { setToken(""); setWho(null); setSignIn(""); }} />`;
  }
  if (signIn === null) return html`<p class="loading">Loading…</p>`;
  return html`<${SignIn} message=${signIn} onSignedIn=${(w) => { setWho(w); setSignIn(null); }} />`;
}

render(html`<${App} />`, document.getElementById("app"));
// Started: boot.js no longer takes an error for a failure to load the dashboard.
window.headraceStarted = true;
