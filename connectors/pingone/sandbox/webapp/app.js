// The sandbox's web verification page: talks to the webVerifications API given in the URL.
"use strict";

const params = new URLSearchParams(window.location.search);
const txnid = params.get("txnid");
const api = params.get("url");
const code = params.get("code");
const TEXT_TYPES = new Set(["Driver License Code", "ID Card Code", "Phone", "Email"]);
const TERMINAL = new Set(["SUCCESS", "FAIL", "APPROVED_MANUALLY", "APPROVED_NO_REQUEST"]);
const $ = (id) => document.getElementById(id);

function endpoint(suffix) {
  return `${api}/${encodeURIComponent(txnid)}${suffix}`;
}

async function call(method, suffix, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify({ code, ...body });
  }
  const response = await fetch(endpoint(suffix), options);
  const data = await response.json();
  if (!response.ok) {
    const detail = (data.details || []).map((d) => d.message).join("; ");
    throw new Error(`${data.message || response.status}${detail ? " (" + detail + ")" : ""}`);
  }
  return data;
}

function fieldFor(type, index) {
  const id = `doc-${index}`;
  const wrap = document.createElement("div");
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = type;
  wrap.appendChild(label);
  const input = document.createElement(TEXT_TYPES.has(type) ? "textarea" : "input");
  if (!TEXT_TYPES.has(type)) {
    input.type = "file";
    input.accept = "image/jpeg";
  }
  input.id = id;
  input.dataset.type = type;
  wrap.appendChild(input);
  return wrap;
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function show(state) {
  const status = state.transactionStatus.status;
  $("status").textContent = status;
  const messages = state.transactionStatus.providerMessagesList || [];
  $("message").textContent = messages.join(" ");
  const finished = TERMINAL.has(status);
  $("start").classList.toggle("hidden", status !== "REQUESTED");
  $("capture").classList.toggle("hidden", finished || status === "REQUESTED");
  $("done").classList.toggle("hidden", !finished);
  $("missing").textContent = (state.missingDocuments || []).join(", ") || "nothing";
  if ($("fields").childElementCount === 0) {
    state.acceptedDocuments.forEach((type, i) => $("fields").appendChild(fieldFor(type, i)));
  }
  const waiting = !finished && status !== "REQUESTED" && (state.missingDocuments || []).length === 0;
  if (waiting && state.transactionStatus.status === "IN_PROGRESS") {
    // Everything is in and the decision is being made: ask again shortly.
    window.setTimeout(refresh, 2000);
  }
  if (finished) {
    $("result").textContent = status === "FAIL" ? "We could not verify you." : "You are verified.";
    if (state.redirect && state.redirect.url) {
      $("redirect").href = state.redirect.url;
      $("redirect").textContent = state.redirect.message || "Continue";
      $("redirect").classList.remove("hidden");
    }
  }
}

async function sendAll(event) {
  event.preventDefault();
  let state = null;
  for (const input of $("fields").querySelectorAll("[data-type]")) {
    const type = input.dataset.type;
    let value = null;
    if (TEXT_TYPES.has(type)) {
      value = input.value.trim() || null;
    } else if (input.files && input.files.length) {
      value = await readBase64(input.files[0]);
    }
    if (value) {
      state = await call("POST", "/documents", { type, value });
    }
  }
  if (state) show(state);
}

async function refresh() {
  try {
    show(await call("GET", `?code=${encodeURIComponent(code)}`));
  } catch (error) {
    $("message").textContent = error.message;
  }
}

async function main() {
  if (!txnid || !api || !code) {
    $("status").textContent = "invalid link";
    return;
  }
  $("begin").addEventListener("click", async () => show(await call("POST", "/sessions", {})));
  $("capture").addEventListener("submit", (event) =>
    sendAll(event).catch((error) => { $("message").textContent = error.message; }));
  await refresh();
}

main().catch((error) => { $("message").textContent = error.message; });
