// Operation patterns (GET /v1/patterns): what agents do again and again,
// what a run costs and what a tool doing it instead would save, and how
// sure we are that it works (the Wilson lower bound of its success rate).

import { getJson, segment } from "./api.js";
import { bar, el, facts, heading, message, number, paged, percent, table, time, usd } from "./dom.js";

const k_sorts = {
  savings: "Savings (30 days)",
  occurrences: "Runs",
  confidence: "Confidence",
  last_seen: "Last seen",
};

const k_empty = "No patterns stored yet: they appear once workflows are ingested.";

const k_columns = [
  {
    title: "Pattern",
    cell: (p) => el("a", { href: `#/patterns/${segment(p.signature)}` }, p.signature),
  },
  { title: "Runs", cell: (p) => number(p.occurrences), numeric: true },
  { title: "Success rate", cell: (p) => percent(p.success_rate), numeric: true },
  { title: "Confidence", cell: (p) => bar(p.confidence) },
  { title: "Saving per run", cell: (p) => usd(p.savings_per_run_usd), numeric: true },
  { title: "Savings, 30 days", cell: (p) => usd(p.savings_last_30_days_usd), numeric: true },
  { title: "Last seen", cell: (p) => time(p.last_seen) },
];

function sortLinks(sort) {
  return el(
    "p",
    { class: "sorts" },
    "Sort by: ",
    Object.entries(k_sorts).map(([key, label]) =>
      el("a", { href: `#/patterns?sort=${key}`, class: key === sort ? "current" : null }, label),
    ),
  );
}

export async function patternsView({ params, signal }) {
  const sort = k_sorts[params.get("sort")] ? params.get("sort") : "savings";
  const load = (cursor) => getJson("/v1/patterns", { sort, limit: 50, cursor }, signal);
  const first = await load(null);
  return [
    heading(
      "Operation patterns",
      "Workflows that repeat, with what a run costs, what a tool would save, and how sure that is.",
    ),
    sortLinks(sort),
    paged(first, load, table(k_columns), k_empty),
  ];
}

function runsPerDay(days) {
  if (days.length === 0) return message("No runs in the last 30 days.");
  const most = Math.max(...days.map((d) => d.runs), 1);
  const chart = el("div", { class: "days" });
  for (const d of days) {
    const column = el("span", { class: "day-bar", title: `${d.day}: ${d.runs} runs` });
    column.style.height = `${(d.runs / most) * 100}%`;
    const label = el("span", { class: "day-label" }, d.day.slice(5));
    chart.append(el("span", { class: "day" }, column, label));
  }
  return chart;
}

export async function patternView({ args: [signature], signal }) {
  const p = await getJson(`/v1/patterns/${segment(signature)}`, {}, signal);
  return [
    el("p", { class: "crumbs" }, el("a", { href: "#/patterns" }, "Patterns"), " / ", p.signature),
    heading(p.signature, `${p.category} with ${p.tool} on ${p.target}`),
    facts([
      ["Runs", number(p.occurrences)],
      ["Successes", `${number(p.successes)} (${percent(p.success_rate)})`],
      ["Confidence", bar(p.confidence)],
      ["Average tokens", number(p.avg_tokens)],
      ["Average cost", usd(p.avg_cost_usd)],
      ["Cost with a tool", usd(p.tool_cost_usd)],
      ["Saving per run", usd(p.savings_per_run_usd)],
      ["Runs, last 30 days", number(p.runs_last_30_days)],
      ["Savings, last 30 days", usd(p.savings_last_30_days_usd)],
      ["Average duration", `${number(p.avg_duration_seconds, 1)} s`],
      ["First seen", time(p.first_seen)],
      ["Last seen", time(p.last_seen)],
    ]),
    el("h2", {}, "Runs per day"),
    runsPerDay(p.runs_per_day),
  ];
}
