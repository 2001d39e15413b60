// The sandbox's web verification page: talks to the webVerifications API given in the URL.
"use strict";

const params = new URLSearchParams(window.location.search);
const txnid = params.get("txnid");
const api = params.get("url");
const code = params.get("code");
const TEXT_TYPES = new Set(["Driver License Code", "ID Card Code", "Phone", "Email"]);
const TERMINAL = new Set(["SUCCESS", "FAIL", "APPROVED_MANUALLY", "APPROVED_NO_REQUEST", "NOT_REQUIRED"]);
// What each status means to the person holding the phone (the API's name is shown beside it).
const STATUS_TEXT = {
  REQUESTED: "Ready to start",
  INITIATED: "Waiting for your photos",
  PARTIAL: "Some photos are still needed",
  IN_PROGRESS: "Checking your documents…",
  SUCCESS: "You are verified",
  APPROVED_MANUALLY: "You are verified",
  APPROVED_NO_REQUEST: "You are verified",
  NOT_REQUIRED: "No verification needed",
  FAIL: "We could not verify you",
};
// The ID documents a person can choose from; each lists its document types, photos first.
const DOCUMENTS = [
  { label: "Driver licence", types: ["Driver License Front", "Driver License Back", "Driver License Code"] },
  { label: "National ID card", types: ["ID Card Front", "ID Card Back", "ID Card Code"] },
  { label: "Passport", types: ["Passport"] },
  { label: "Passport card", types: ["Passport Card Front", "Passport Card Back"] },
];
// Other names the API accepts for a document above; the page does not ask for them twice.
const ALIASES = ["Passport Front"];
const LABELS = {
  "Driver License Front": "Photo of the front of your driver licence",
  "Driver License Back": "Photo of the back of your driver licence",
  "ID Card Front": "Photo of the front of your ID card",
  "ID Card Back": "Photo of the back of your ID card",
  "Passport": "Photo of your passport's photo page",
  "Phone": "Your mobile phone number",
  "Email": "Your email address",
  "Voice Sample": "A recording of your voice",
  "Voice Input": "A recording of your voice",
  "Passport Card Front": "Photo of the front of your passport card",
  "Passport Card Back": "Photo of the back of your passport card",
  "Selfie": "Take a selfie: face the camera in good light, no hat or sunglasses",
};
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
    const message = data.message || `The server answered ${response.status}.`;
    // PingOne's message often repeats its detail: show each sentence once.
    const details = (data.details || []).map((d) => d.message).filter((d) => d && !message.includes(d));
    throw new Error(details.length ? `${message} (${details.join("; ")})` : message);
  }
  return data;
}

function fieldFor(type) {
  const id = `doc-${type.replace(/\W+/g, "-")}`;
  const barcode = type.endsWith(" Code");
  // A barcode's text is a fallback for testing, folded away so nobody thinks they must type it.
  const wrap = document.createElement(barcode ? "details" : "div");
  const label = document.createElement(barcode ? "summary" : "label");
  label.textContent = barcode
    ? "Barcode text (optional: only if the camera cannot read the barcode)"
    : LABELS[type] || type;
  if (!barcode) label.htmlFor = id;
  wrap.appendChild(label);
  const input = document.createElement(barcode ? "textarea" : "input");
  if (type === "Phone" || type === "Email") {
    input.type = type === "Phone" ? "tel" : "email";
  } else if (!barcode) {
    input.type = "file";
    input.accept = type.startsWith("Voice") ? "audio/*" : "image/jpeg";
    // On a phone this opens the camera: the front one for a selfie, the back one for a document.
    input.setAttribute("capture", type === "Selfie" || type.startsWith("Voice") ? "user" : "environment");
  }
  input.id = id;
  input.dataset.type = type;
  input.setAttribute("aria-label", LABELS[type] || type);
  wrap.appendChild(input);
  return wrap;
}

function buildForm(state) {
  const accepted = new Set(state.acceptedDocuments || []);
  const missing = state.missingDocuments || [];
  const choices = DOCUMENTS.filter((doc) => doc.types.some((t) => accepted.has(t)));
  const kind = $("doc-kind");
  choices.forEach((doc, i) => kind.appendChild(new Option(doc.label, String(i))));
  // Preselect the document the transaction asks for first.
  const asked = choices.findIndex((doc) => doc.types.some((t) => missing.includes(t)));
  kind.value = String(Math.max(asked, 0));
  const showDocument = () => {
    $("doc-fields").replaceChildren(
      ...choices[Number(kind.value)].types.filter((t) => accepted.has(t)).map(fieldFor));
  };
  kind.addEventListener("change", showDocument);
  if (choices.length) showDocument();
  $("doc-kind").closest("fieldset").classList.toggle("hidden", choices.length === 0);
  $("selfie-step").classList.toggle("hidden", !accepted.has("Selfie"));
  if (accepted.has("Selfie")) $("selfie-fields").appendChild(fieldFor("Selfie"));
  const known = new Set(["Selfie", ...ALIASES, ...DOCUMENTS.flatMap((doc) => doc.types)]);
  const others = [...accepted].filter((t) => !known.has(t));
  others.forEach((t) => $("other-fields").appendChild(fieldFor(t)));
  $("other-step").classList.toggle("hidden", others.length === 0);
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
  $("status").textContent = STATUS_TEXT[status] || status;
  $("code").textContent = `(${status})`;
  document.body.dataset.status = status; // the API's name, for scripts and tests
  const messages = state.transactionStatus.providerMessagesList || [];
  $("message").textContent = messages.join(" ");
  $("message").classList.remove("error");
  const finished = TERMINAL.has(status);
  $("start").classList.toggle("hidden", status !== "REQUESTED");
  $("capture").classList.toggle("hidden", finished || status === "REQUESTED");
  $("done").classList.toggle("hidden", !finished);
  const missing = state.missingDocuments || [];
  $("missing").textContent = missing.join(", ");
  $("missing-line").classList.toggle("hidden", missing.length === 0);
  if (!finished && status !== "REQUESTED" && $("doc-kind").options.length === 0) buildForm(state);
  const waiting = !finished && status !== "REQUESTED" && missing.length === 0;
  if (waiting && status === "IN_PROGRESS") {
    // Everything is in and the decision is being made: ask again shortly.
    window.setTimeout(refresh, 2000);
  }
  if (finished) {
    $("result").textContent = status === "FAIL"
      ? "We could not verify you. You can close this page."
      : "You are verified. You can close this page and go back to where you started.";
    if (state.redirect && state.redirect.url) {
      $("redirect").href = state.redirect.url;
      $("redirect").textContent = state.redirect.message || "Continue";
      $("redirect").classList.remove("hidden");
    }
  }
}

function fail(error) {
  $("message").textContent = error.message;
  $("message").classList.add("error");
}

async function sendAll(event) {
  event.preventDefault();
  let state = null;
  for (const input of $("capture").querySelectorAll("[data-type]")) {
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
  else fail(new Error("Choose a photo first: tap a field above to open the camera."));
}

async function refresh() {
  try {
    show(await call("GET", `?code=${encodeURIComponent(code)}`));
  } catch (error) {
    if ($("status").textContent === "Loading…") {
      // Nothing could be read: the link is wrong or expired. Say what to do next.
      $("status").textContent = "This link cannot be used";
      $("code").textContent = "";
      const said = /[.!?)]$/.test(error.message) ? error.message : `${error.message}.`;
      fail(new Error(`${said} Scan the QR code again, or ask for a new link.`));
    } else {
      fail(error);
    }
  }
}

async function main() {
  if (!txnid || !api || !code) {
    $("status").textContent = "This link is incomplete: scan the QR code again.";
    return;
  }
  $("begin").addEventListener("click", () => call("POST", "/sessions", {}).then(show).catch(fail));
  $("capture").addEventListener("submit", (event) => sendAll(event).catch(fail));
  await refresh();
}

main().catch(fail);
