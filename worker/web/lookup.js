// "Have we seen this error?" (GET /v1/failures/lookup): the error is
// normalized to its signature by the server, so the same failure with other
// ids, paths or numbers is found; its fixes come best first.

import { getJson } from "./api.js";
import { bar, el, facts, heading, message, number, percent, table, time } from "./dom.js";

const k_fix_columns = [
  { title: "Fix", cell: (f) => f.pattern },
  { title: "Example", cell: (f) => (f.fix_example ? el("code", {}, f.fix_example) : null) },
  { title: "Worked", cell: (f) => `${number(f.successes)} of ${number(f.attempts)}`, numeric: true },
  { title: "Success rate", cell: (f) => percent(f.success_rate), numeric: true },
  { title: "Confidence", cell: (f) => bar(f.confidence) },
  { title: "Agents", cell: (f) => number(f.agents), numeric: true },
  { title: "Last tried", cell: (f) => time(f.last_seen) },
];

function form(error, refresh) {
  const area = el("textarea", {
    id: "error-input",
    name: "error",
    rows: 4,
    placeholder: "Paste an error message, e.g. TypeError: Cannot read properties of undefined",
  });
  area.value = error;
  const node = el(
    "form",
    { id: "lookup-form", class: "card lookup-form" },
    el("label", { for: "error-input" }, "Error text"),
    area,
    el("button", { type: "submit" }, "Look up"),
  );
  node.addEventListener("submit", (event) => {
    event.preventDefault();
    const hash = `#/lookup?error=${encodeURIComponent(area.value.trim())}`;
    if (location.hash === hash) refresh();
    else location.hash = hash;
  });
  return node;
}

function fixes(found) {
  if (found.fixes.length === 0) return message("No fix has been recorded for this error yet.");
  const view = table(k_fix_columns);
  found.fixes.forEach(view.add);
  return view.node;
}

function result(found) {
  if (!found.seen) {
    return el(
      "section",
      { class: "card lookup-result" },
      el("h2", {}, "Not seen before"),
      facts([["Signature", el("code", {}, found.signature)], ["Error type", found.error_type]]),
      message("Nothing is stored for this signature: no occurrences and no fixes yet."),
    );
  }
  return el(
    "section",
    { class: "card lookup-result" },
    el("h2", {}, `Seen ${number(found.frequency)} time${found.frequency === 1 ? "" : "s"}`),
    facts([
      ["Signature", el("code", {}, found.signature)],
      ["Error type", found.error_type],
      ["First seen", time(found.first_seen)],
      ["Last seen", time(found.last_seen)],
      ["Agents", number(found.agents)],
      ["Sessions", number(found.sessions)],
    ]),
    el("h3", {}, "Example"),
    el("pre", { class: "example" }, found.example ?? "—"),
    el("h3", {}, "Fixes, most trusted first"),
    fixes(found),
  );
}

export async function lookupView({ params, signal, refresh }) {
  const error = params.get("error") || "";
  const parts = [
    heading("Error lookup", "Paste an error to see whether agents met it before, and what fixed it."),
    form(error, refresh),
  ];
  if (!error) return parts;
  parts.push(result(await getJson("/v1/failures/lookup", { error }, signal)));
  return parts;
}
