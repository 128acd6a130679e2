// Building the page from data. Every text goes in as a Text node (never as
// markup): event text, prompts and error messages are untrusted.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const k_none = "—";

// "2026-11-20T10:00:00.000Z" as "2026-11-20 10:00:00 UTC".
export function time(value) {
  if (!value) return k_none;
  return value.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
}

export function number(value, digits = 0) {
  if (value === null || value === undefined) return k_none;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

// Money in USD: cents are too coarse for a run's cost.
export function usd(value) {
  if (value === null || value === undefined) return k_none;
  const digits = Math.abs(value) >= 100 ? 2 : 4;
  return `$${number(value, digits)}`;
}

export function percent(value) {
  if (value === null || value === undefined) return k_none;
  return `${(value * 100).toFixed(1)}%`;
}

export function seconds(ms) {
  if (ms === null || ms === undefined) return k_none;
  return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
}

// A figure between 0 and 1 as a bar with its percentage (confidence).
export function bar(value) {
  const fill = el("span", { class: "bar-fill" });
  fill.style.width = `${Math.max(0, Math.min(1, value || 0)) * 100}%`;
  return el("span", { class: "bar" }, el("span", { class: "bar-track" }, fill), percent(value));
}

export function badge(text, kind = text) {
  return el("span", { class: `badge badge-${kind || "none"}` }, text || k_none);
}

// A message in place of data: "empty" (nothing stored), "hint", "error".
export function message(text, kind = "empty") {
  const role = kind === "error" ? "alert" : null;
  return el("p", { class: `message message-${kind}`, role }, text);
}

export function heading(title, lead) {
  return [el("h1", {}, title), lead ? el("p", { class: "lead" }, lead) : null];
}

// Label/value pairs; values may be nodes.
export function facts(pairs) {
  const list = el("dl", { class: "facts" });
  for (const [label, value] of pairs) {
    list.append(el("dt", {}, label), el("dd", {}, value ?? k_none));
  }
  return list;
}

// A table with `columns` ({title, cell(row), numeric}); add(row) appends.
export function table(columns) {
  const align = (c) => ({ class: c.numeric ? "num" : null });
  const body = el("tbody");
  const head = el("thead", {}, el("tr", {}, columns.map((c) => el("th", align(c), c.title))));
  const add = (row) =>
    body.append(el("tr", {}, columns.map((c) => el("td", align(c), c.cell(row) ?? k_none))));
  return { node: el("table", {}, head, body), add };
}

// A listing shown page by page: `first` is its first page ({data,
// next_cursor}), `load(cursor)` fetches the next, `view` is {node, add(row)}.
export function paged(first, load, view, emptyText) {
  if (first.data.length === 0) return message(emptyText);
  const more = el("button", { type: "button", class: "more" }, "Show more");
  const status = el("span", { class: "more-status" });
  let cursor = null;
  const show = (page) => {
    page.data.forEach(view.add);
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    status.textContent = "";
    try {
      show(await load(cursor));
    } catch (error) {
      status.textContent = `Could not load more: ${error.message}`;
    } finally {
      more.disabled = false;
    }
  });
  show(first);
  return el("div", { class: "paged" }, view.node, el("div", { class: "more-row" }, more, status));
}
