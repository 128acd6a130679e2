// A session played back (GET /v1/sessions/{id}/replay as NDJSON): its events
// and state changes arrive spaced by their original intervals divided by the
// speed, and are appended as they come, until the end entry or Stop.

import { getJson, segment, streamLines } from "./api.js";
import { badge, el, heading, seconds } from "./dom.js";

export async function replayView({ args: [id], params, signal }) {
  const session = await getJson(`/v1/sessions/${segment(id)}`, {}, signal);
  const speed = params.get("speed") ?? "10";
  const log = el("ol", { class: "replay-log", id: "replay-log" });
  const status = el("p", { class: "replay-status", id: "replay-status", role: "status" });
  const stop = el("button", { type: "button", id: "replay-stop" }, "Stop");
  const playing = new AbortController();
  signal.addEventListener("abort", () => playing.abort());
  stop.addEventListener("click", () => playing.abort());
  play(id, speed, playing.signal, { log, status, stop });
  return [
    el(
      "p",
      { class: "crumbs" },
      el("a", { href: "#/sessions" }, "Sessions"),
      " / ",
      el("a", { href: `#/sessions/${segment(id)}` }, session.session_id),
      " / replay",
    ),
    heading(`Replay of ${session.session_id}`, "Entries come at their original pace divided by the speed."),
    el("div", { class: "replay-controls" }, speedPicker(id, speed), stop, status),
    log,
  ];
}

function speedPicker(id, speed) {
  const select = el("select", { id: "replay-speed" });
  for (const [value, label] of [["1", "1×"], ["10", "10×"], ["100", "100×"], ["0", "no pauses"]]) {
    select.append(el("option", { value, selected: value === speed }, label));
  }
  select.addEventListener("change", () => {
    location.hash = `#/sessions/${segment(id)}/replay?speed=${select.value}`;
  });
  return el("label", {}, "Speed ", select);
}

async function play(id, speed, signal, { log, status, stop }) {
  let shown = 0;
  status.textContent = "Playing…";
  try {
    await streamLines(`/v1/sessions/${segment(id)}/replay`, { speed }, signal, (entry) => {
      log.append(item(entry));
      shown += 1;
      if (entry.kind === "end") {
        status.textContent =
          `Replay ended: ${entry.extractions} events and ${entry.state_changes} ` +
          `state changes over ${seconds(entry.span_ms)}.`;
      }
    });
  } catch (error) {
    status.textContent = signal.aborted
      ? `Stopped after ${shown} ${shown === 1 ? "entry" : "entries"}.`
      : `The replay failed: ${error.message}`;
  } finally {
    stop.disabled = true;
  }
}

function item(entry) {
  const at = entry.offset_ms === undefined ? "" : `+${seconds(entry.offset_ms)}`;
  const offset = el("span", { class: "when" }, at);
  switch (entry.kind) {
    case "state_change": {
      const c = entry.state_change;
      const exit = c.exit_code === null ? "" : ` (exit code ${c.exit_code})`;
      return el("li", { class: "entry-state" }, offset, badge(c.state), `state ${c.state}${exit}`);
    }
    case "extraction": {
      const e = entry.extraction;
      const what = [e.type, e.pattern].filter(Boolean).join(" · ");
      return el(
        "li",
        { class: "entry-event" },
        offset,
        badge(e.type, "event"),
        what,
        e.matched_value ? el("code", { class: "clip" }, e.matched_value) : null,
      );
    }
    case "notice":
      return el("li", { class: "entry-notice" }, offset, badge("notice"), entry.message);
    case "end":
      return el("li", { class: "entry-end" }, offset, badge("end"), "end of the session");
    default:
      return el("li", {}, offset, `unknown entry ${JSON.stringify(entry.kind)}`);
  }
}
