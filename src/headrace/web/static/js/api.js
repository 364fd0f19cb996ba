// The REST client of the dashboard: the token, the routes, and what a refusal says.

// Route prefixes in one place: the pipeline-job routes move to /pipeline-jobs (issue 12).
export const ROUTES = {
  pipelineJobs: "/pipeline-jobs",
  pipelineCommits: "/pipelines", // `${pipelineCommits}/${name}/commits`
};

const KEY = "headrace.token";
let onUnauthenticated = () => {};

export function token() {
  return sessionStorage.getItem(KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

// Called on any 401: the sign-in page comes back.
export function whenUnauthenticated(handler) {
  onUnauthenticated = handler;
}

// What a 401 from a call made elsewhere (the live stream) does: the same as from call().
export function reportUnauthenticated(error) {
  onUnauthenticated(error);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const text = await answer.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text }; }
  }
  if (!answer.ok) {
    const error = new ApiError(answer.status, data || {});
    if (answer.status === 401) onUnauthenticated(error);
    throw error;
  }
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);
export const del = (path) => call("DELETE", path);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
