// Sessions (GET /v1/sessions), active ones first, and one session
// (GET /v1/sessions/{id}): its lifecycle as a timeline of state changes and
// its extraction events.

import { getJson, segment } from "./api.js";
import { badge, el, facts, heading, message, number, paged, table, time } from "./dom.js";

const k_session_columns = [
  {
    title: "Session",
    cell: (s) => el("a", { href: `#/sessions/${segment(s.session_id)}` }, s.session_id),
  },
  { title: "Agent", cell: (s) => s.agent },
  { title: "State", cell: (s) => badge(s.state) },
  { title: "Started", cell: (s) => time(s.started_at ?? s.first_event) },
  { title: "Ended", cell: (s) => time(s.ended_at) },
  { title: "Exit code", cell: (s) => s.exit_code, numeric: true },
  { title: "Events", cell: (s) => number(s.event_count), numeric: true },
  { title: "Errors", cell: (s) => number(s.error_count), numeric: true },
  { title: "Lines", cell: (s) => number(s.lines_processed), numeric: true },
];

const k_event_columns = [
  { title: "Time", cell: (e) => time(e.time) },
  { title: "Type", cell: (e) => e.type },
  { title: "Pattern", cell: (e) => e.pattern },
  { title: "Risk", cell: (e) => (e.risk_level ? badge(e.risk_level, `risk-${e.risk_level}`) : null) },
  {
    title: "Value",
    cell: (e) => (e.matched_value ? el("code", { class: "clip" }, e.matched_value) : null),
  },
];

export async function sessionsView({ signal }) {
  const loader = (active) => (cursor) =>
    getJson("/v1/sessions", { active, limit: 50, cursor }, signal);
  const [active, others] = await Promise.all([loader(true)(null), loader(false)(null)]);
  const lead = "Agent sessions with their lifecycle; active ones (started, not yet ended) first.";
  if (active.data.length === 0 && others.data.length === 0) {
    return [
      heading("Sessions", lead),
      message("No sessions stored yet: they appear once session or extraction events are ingested."),
    ];
  }
  return [
    heading("Sessions", lead),
    el("h2", {}, "Active"),
    paged(active, loader(true), table(k_session_columns), "No session is active right now."),
    el("h2", {}, "Ended, or known from their events only"),
    paged(others, loader(false), table(k_session_columns), "No other sessions."),
  ];
}

function changeDetails(change) {
  const parts = [];
  if (change.exit_code !== null) parts.push(`exit code ${change.exit_code}`);
  if (change.lines_processed !== null) parts.push(`${number(change.lines_processed)} lines`);
  if (change.environment) parts.push(`environment ${change.environment}`);
  return parts.join(", ");
}

function timeline(changes) {
  if (changes.length === 0) {
    return message("No state changes recorded: this session is known from its events only.");
  }
  return el(
    "ol",
    { class: "timeline", id: "timeline" },
    changes.map((c) =>
      el(
        "li",
        {},
        el("span", { class: "when" }, time(c.time)),
        badge(c.state),
        el("span", { class: "details" }, changeDetails(c)),
      ),
    ),
  );
}

function eventCounts(byType) {
  const entries = Object.entries(byType);
  if (entries.length === 0) return null;
  return el(
    "p",
    { class: "counts" },
    entries.map(([type, count]) => el("span", { class: "count" }, `${type}: ${number(count)}`)),
  );
}

export function sessionFacts(s) {
  return facts([
    ["Agent", s.agent],
    ["State", badge(s.state)],
    ["Active", s.active ? "yes" : "no"],
    ["Started", time(s.started_at)],
    ["Ended", time(s.ended_at)],
    ["Exit code", s.exit_code],
    ["First event", time(s.first_event)],
    ["Last event", time(s.last_event)],
    ["Environment", s.environment],
    ["Lines processed", number(s.lines_processed)],
  ]);
}

export async function sessionView({ args: [id], signal }) {
  const path = `/v1/sessions/${segment(id)}`;
  const loadEvents = (cursor) => getJson(`${path}/events`, { limit: 50, cursor }, signal);
  const [s, events] = await Promise.all([getJson(path, {}, signal), loadEvents(null)]);
  const replay = `#/sessions/${segment(id)}/replay`;
  return [
    el("p", { class: "crumbs" }, el("a", { href: "#/sessions" }, "Sessions"), " / ", s.session_id),
    heading(`Session ${s.session_id}`),
    el("p", {}, el("a", { class: "button", href: replay }, "Replay this session")),
    sessionFacts(s),
    el("h2", {}, "State changes"),
    timeline(s.state_changes),
    el("h2", {}, "Events"),
    eventCounts(s.events_by_type),
    paged(events, loadEvents, table(k_event_columns), "No extraction events stored for this session."),
  ];
}
