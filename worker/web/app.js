// The page's router: the view of location.hash ("#/sessions/ID?x=1") is
// built from the read API into #main. A view that gets a 401 is replaced by
// the token form, which retries it; any other failure shows the API's
// message, so the page is never left blank.

import { Unauthorized, setToken, token } from "./api.js";
import { el, message } from "./dom.js";
import { lookupView } from "./lookup.js";
import { patternView, patternsView } from "./patterns.js";
import { promptsView } from "./prompts.js";
import { replayView } from "./replay.js";
import { sessionView, sessionsView } from "./sessions.js";
import { tokenForm } from "./token.js";

const k_routes = [
  { path: /^\/(?:patterns)?$/, section: "patterns", view: patternsView },
  { path: /^\/patterns\/(.+)$/, section: "patterns", view: patternView },
  { path: /^\/lookup$/, section: "lookup", view: lookupView },
  { path: /^\/sessions$/, section: "sessions", view: sessionsView },
  { path: /^\/sessions\/([^/]+)$/, section: "sessions", view: sessionView },
  { path: /^\/sessions\/([^/]+)\/replay$/, section: "sessions", view: replayView },
  { path: /^\/prompts$/, section: "prompts", view: promptsView },
];

// The hash as a path and its parameters: "#/lookup?error=x".
function location_route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const q = hash.indexOf("?");
  const path = q < 0 ? hash : hash.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : hash.slice(q + 1));
  for (const route of k_routes) {
    const match = route.path.exec(path);
    if (match) return { route, args: match.slice(1).map(decodeURIComponent), params };
  }
  return { route: null, path, params };
}

function highlight(section) {
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("current", link.dataset.section === section);
  }
  document.getElementById("forget-token").hidden = token() === "";
}

let current = null;  // the AbortController of the view on screen

async function render() {
  current?.abort();
  current = new AbortController();
  const { signal } = current;
  const root = el("div", { class: "view" }, el("p", { class: "loading" }, "Loading…"));
  document.getElementById("main").replaceChildren(root);
  const { route, args, params, path } = location_route();
  highlight(route?.section);
  if (!route) {
    root.replaceChildren(message(`There is no page at #${path}.`, "error"));
    return;
  }
  try {
    const content = await route.view({ args, params, signal, refresh: render });
    if (!signal.aborted) root.replaceChildren(el("div", {}, content));
  } catch (error) {
    if (signal.aborted) return;  // another view replaced this one
    if (error instanceof Unauthorized) {
      root.replaceChildren(tokenForm(error, render));
      return;
    }
    root.replaceChildren(message(`Could not load this view: ${error.message}`, "error"));
  }
}

document.getElementById("forget-token").addEventListener("click", () => {
  setToken("");
  render();
});
window.addEventListener("hashchange", render);
render();
