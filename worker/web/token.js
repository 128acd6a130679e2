// The form asking for the read API's bearer token (api.tokens) when a call
// answered 401. The token is kept in sessionStorage: this tab only, gone
// when it closes.

import { setToken, token } from "./api.js";
import { el, message } from "./dom.js";

export function tokenForm(error, retry) {
  const refused = token() !== "";
  const input = el("input", {
    type: "password",
    id: "token-input",
    name: "token",
    autocomplete: "off",
    required: true,
  });
  const form = el(
    "form",
    { id: "token-form", class: "card token-form" },
    el("h1", {}, "API token needed"),
    el(
      "p",
      {},
      "This server's read API asks for a bearer token (api.tokens in its configuration). " +
        "The page keeps it in this tab only (sessionStorage).",
    ),
    refused ? message(`The token was refused: ${error.message}`, "error") : null,
    el("label", { for: "token-input" }, "Token"),
    input,
    el("button", { type: "submit" }, "Use this token"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    retry();
  });
  return form;
}
