// Prompt search (GET /v1/prompts?q=, full text, best match first) with the
// per-backend figures of GET /v1/prompts/stats. A query the index cannot
// parse is a 400 whose message is shown under the form.

import { ApiError, Unauthorized, getJson } from "./api.js";
import { el, heading, message, number, paged, percent, table, time } from "./dom.js";

const k_stats_columns = [
  { title: "Backend", cell: (b) => b.backend },
  { title: "Prompts", cell: (b) => number(b.prompts), numeric: true },
  { title: "Mean confidence", cell: (b) => percent(b.mean_confidence), numeric: true },
  { title: "Latency p50", cell: (b) => ms(b.latency_p50_ms), numeric: true },
  { title: "Latency p95", cell: (b) => ms(b.latency_p95_ms), numeric: true },
  { title: "Last seen", cell: (b) => time(b.last_seen) },
];

function ms(value) {
  return value === null ? null : `${number(value)} ms`;
}

function form(q, backend, backends, refresh) {
  const input = el("input", {
    type: "search",
    id: "prompt-query",
    name: "q",
    placeholder: "e.g. login crash",
  });
  input.value = q;
  const select = el("select", { id: "prompt-backend", name: "backend" });
  select.append(el("option", { value: "" }, "every backend"));
  for (const name of backends) {
    select.append(el("option", { value: name, selected: name === backend }, name));
  }
  const node = el(
    "form",
    { id: "prompt-form", class: "card search-form" },
    el("label", { for: "prompt-query" }, "Search"),
    input,
    select,
    el("button", { type: "submit" }, "Search"),
  );
  node.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    if (input.value.trim()) query.set("q", input.value.trim());
    if (select.value) query.set("backend", select.value);
    const hash = `#/prompts${query.size ? `?${query}` : ""}`;
    if (location.hash === hash) refresh();
    else location.hash = hash;
  });
  return node;
}

// bm25, higher is better; tiny in a small corpus, so in significant digits.
function relevance(value) {
  return `relevance ${Number(value.toPrecision(3))}`;
}

function card(p) {
  const meta = [p.backend, p.model_version, time(p.time)];
  if (p.confidence !== null) meta.push(`confidence ${percent(p.confidence)}`);
  if (p.latency_ms !== null) meta.push(`${number(p.latency_ms)} ms`);
  return el(
    "article",
    { class: "card prompt" },
    el(
      "h3",
      {},
      p.original_idea || "(no idea given)",
      p.relevance === undefined ? null : el("span", { class: "relevance" }, relevance(p.relevance)),
    ),
    el("p", { class: "meta" }, meta.filter(Boolean).join(" · ")),
    p.context ? el("p", { class: "context" }, `Context: ${p.context}`) : null,
    el("p", { class: "prompt-text" }, p.improved_prompt),
  );
}

function cards() {
  const node = el("div", { class: "prompts", id: "prompt-results" });
  return { node, add: (p) => node.append(card(p)) };
}

// The results, or the API's message when it refused the query (400).
async function results(q, backend, signal) {
  const load = (cursor) => getJson("/v1/prompts", { q, backend, limit: 20, cursor }, signal);
  try {
    const first = await load(null);
    const empty = q
      ? `No prompt matches “${q}”.`
      : "No prompts stored yet: they appear once prompts are ingested.";
    return paged(first, load, cards(), empty);
  } catch (error) {
    const refused = error instanceof ApiError && !(error instanceof Unauthorized) && error.status === 400;
    if (!refused) throw error;
    return message(`The search was refused: ${error.message}`, "error");
  }
}

export async function promptsView({ params, signal, refresh }) {
  const q = params.get("q") || "";
  const backend = params.get("backend") || "";
  const [stats, found] = await Promise.all([
    getJson("/v1/prompts/stats", {}, signal),
    results(q, backend, signal),
  ]);
  const statsTable = table(k_stats_columns);
  stats.data.forEach(statsTable.add);
  return [
    heading("Prompts", "Improved prompts in full text; with a query, the best matches come first."),
    form(q, backend, stats.data.map((b) => b.backend), refresh),
    el("h2", {}, q ? `Matches for “${q}”` : "Latest prompts"),
    found,
    el("h2", {}, "Per backend"),
    stats.data.length ? statsTable.node : message("No prompts stored yet, so no backend figures."),
  ];
}
