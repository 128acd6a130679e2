// Calls to the read API (/v1/...): the bearer token kept in sessionStorage
// goes with every call, and the API's {"error": ...} bodies become
// exceptions whose message the views show as they are.

const k_token_key = "patternd.token";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A 401: the router asks for a token instead of showing the view.
export class Unauthorized extends ApiError {}

export function token() {
  return sessionStorage.getItem(k_token_key) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(k_token_key, value);
  else sessionStorage.removeItem(k_token_key);
}

// `path` with `params` as its query, leaving out empty values.
export function url(path, params = {}) {
  const parts = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  return parts.length ? `${path}?${parts.join("&")}` : path;
}

// One path segment ("/v1/sessions/" + segment(id)): ids may hold '/' or '?'.
export function segment(text) {
  return encodeURIComponent(text);
}

function headers(accept) {
  const out = { Accept: accept };
  const current = token();
  if (current) out.Authorization = `Bearer ${current}`;
  return out;
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && typeof body.error === "string") message = body.error;
  } catch {
    // Not JSON (a proxy's page, say): the status line says enough.
  }
  if (response.status === 401) return new Unauthorized(401, message);
  return new ApiError(response.status, message);
}

export async function getJson(path, params, signal) {
  const response = await fetch(url(path, params), {
    headers: headers("application/json"),
    signal,
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Reads an NDJSON answer as it arrives, calling onEntry with each line's
// value; resolves when the body ends. fetch() rather than EventSource,
// which cannot send an Authorization header.
export async function streamLines(path, params, signal, onEntry) {
  const response = await fetch(url(path, params), {
    headers: headers("application/x-ndjson"),
    signal,
  });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line) onEntry(JSON.parse(line));
    }
  }
  if (pending.trim()) onEntry(JSON.parse(pending));
}
