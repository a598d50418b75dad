// The page at `/` of `t5 serve`: one prompt, decoding options, output streamed from POST /v1/completions.
// Plain browser JavaScript, no framework and nothing loaded from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const OPTION_IDS = ["max_tokens", "temperature", "top_p", "top_k", "num_beams", "seed", "cot", "stream"];
const STORAGE_KEY = "t5-serve-options";

let modelId = null;
let controller = null; // AbortController of the request in flight

// ---------------------------------------------------------------- server status

function authHeaders() {
  const key = $("api_key").value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function refreshStatus() {
  const badge = $("status");
  try {
    const ready = await fetch("ready", { cache: "no-store" });
    badge.textContent = ready.ok ? "ready" : `not ready (${ready.status})`;
    badge.className = "badge " + (ready.ok ? "ok" : "warn");
  } catch (e) {
    badge.textContent = "offline";
    badge.className = "badge bad";
    return;
  }
  try {
    const res = await fetch("v1/models", { headers: authHeaders(), cache: "no-store" });
    if (res.ok) {
      const body = await res.json();
      modelId = body.data && body.data.length ? body.data[0].id : null;
      $("model").textContent = `model: ${modelId ?? "none"}`;
    } else {
      $("model").textContent = res.status === 401 ? "model: (API key needed)" : `model: (HTTP ${res.status})`;
    }
  } catch (e) {
    $("model").textContent = "model: (unreachable)";
  }
}

// ---------------------------------------------------------------- options

function numberOption(id, { integer = false } = {}) {
  const raw = $(id).value.trim();
  if (raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new Error(`${id} must be ${integer ? "an integer" : "a number"}, got "${raw}"`);
  }
  return value;
}

// The request body: OpenAI's fields plus the T5 extensions (top_k, num_beams, cot); neutral values are left out
// so the server's (the model's) defaults apply.
function requestBody(prompt) {
  const body = { prompt, stream: $("stream").checked };
  if (modelId) body.model = modelId;
  const maxTokens = numberOption("max_tokens", { integer: true });
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  const temperature = numberOption("temperature");
  if (temperature !== undefined) body.temperature = temperature;
  const topP = numberOption("top_p");
  if (topP !== undefined && topP !== 1) body.top_p = topP;
  const topK = numberOption("top_k", { integer: true });
  if (topK !== undefined && topK !== 0) body.top_k = topK;
  const beams = numberOption("num_beams", { integer: true });
  if (beams !== undefined && beams !== 1) body.num_beams = beams;
  const seed = numberOption("seed", { integer: true });
  if (seed !== undefined) body.seed = seed;
  if ($("cot").value) body.cot = $("cot").value;
  if (body.stream) body.stream_options = { include_usage: true };
  return body;
}

function saveOptions() {
  const saved = {};
  for (const id of OPTION_IDS) saved[id] = $(id).type === "checkbox" ? $(id).checked : $(id).value;
  saved.prompt = $("prompt").value;
  try { localStorage.setItem(STORAGE_KEY, JSON.stringify(saved)); } catch (e) { /* storage disabled */ }
}

function restoreOptions() {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null"); } catch (e) { saved = null; }
  if (!saved) return;
  for (const id of OPTION_IDS) {
    if (!(id in saved)) continue;
    if ($(id).type === "checkbox") $(id).checked = Boolean(saved[id]); else $(id).value = saved[id];
  }
  if (typeof saved.prompt === "string" && saved.prompt) $("prompt").value = saved.prompt;
}

// ---------------------------------------------------------------- output

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

function clearOutput() {
  $("output").textContent = "";
  $("stats").textContent = "";
  $("error").hidden = true;
  $("error").textContent = "";
}

// An OpenAI error object ({"error": {"message", "type", "param", "code"}}) as one readable line.
function describeError(status, body, retryAfter) {
  const err = body && typeof body === "object" ? body.error ?? body : null;
  let text = status ? `HTTP ${status}` : "error";
  if (err && typeof err === "object") {
    if (err.message) text += `: ${err.message}`;
    const extra = [err.type, err.param && `param ${err.param}`, err.code && `code ${err.code}`].filter(Boolean);
    if (extra.length) text += ` (${extra.join(", ")})`;
  } else if (typeof body === "string" && body) {
    text += `: ${body.slice(0, 500)}`;
  }
  if (retryAfter) text += ` — retry after ${retryAfter} s`;
  return text;
}

async function errorFromResponse(res) {
  const raw = await res.text();
  let body = raw;
  try { body = JSON.parse(raw); } catch (e) { /* not JSON: show the text */ }
  return describeError(res.status, body, res.headers.get("Retry-After"));
}

function showStats(s) {
  const parts = [];
  if (s.ttft !== null) parts.push(`first token ${(s.ttft / 1000).toFixed(3)} s`);
  const tokens = s.usage?.completion_tokens ?? s.chunks;
  if (tokens) parts.push(`${tokens} token${tokens === 1 ? "" : "s"}`);
  if (s.usage?.prompt_tokens !== undefined) parts.push(`prompt ${s.usage.prompt_tokens} tokens`);
  if (s.end !== null) {
    parts.push(`total ${((s.end - s.start) / 1000).toFixed(3)} s`);
    const genTime = (s.end - (s.ttftAt ?? s.start)) / 1000;
    if (tokens > 1 && genTime > 0 && s.ttftAt !== null) parts.push(`${((tokens - 1) / genTime).toFixed(1)} tok/s`);
  }
  if (s.finish) parts.push(`finish_reason ${s.finish}`);
  $("stats").textContent = parts.join(" · ");
}

// ---------------------------------------------------------------- requests

// Server-sent events from a fetch body: events end at a blank line; `data:` lines carry a JSON chunk or [DONE].
async function readEvents(res, onData) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value ?? new Uint8Array(), { stream: !done });
    let boundary;
    while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
      const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (data && onData(data) === false) { await reader.cancel(); return true; }
    }
    if (done) return false; // the stream ended without [DONE]
  }
}

async function run() {
  clearOutput();
  let body;
  try {
    const prompt = $("prompt").value;
    if (!prompt.trim()) throw new Error("the prompt is empty");
    body = requestBody(prompt);
  } catch (e) {
    showError(e.message);
    return;
  }
  saveOptions();
  controller = new AbortController();
  $("run").disabled = true;
  $("stop").disabled = false;
  const stats = { start: performance.now(), ttft: null, ttftAt: null, end: null, chunks: 0, usage: null, finish: null };
  try {
    const res = await fetch("v1/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: body.stream ? "text/event-stream" : "application/json", ...authHeaders() },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!res.ok) { showError(await errorFromResponse(res)); return; }
    if (!body.stream) {
      const result = await res.json();
      stats.end = performance.now();
      const choices = result.choices ?? [];
      $("output").textContent = choices.length > 1
        ? choices.map((c, i) => `[${i}] ${c.text}`).join("\n\n")
        : (choices[0]?.text ?? "");
      stats.usage = result.usage ?? null;
      stats.finish = choices[0]?.finish_reason ?? null;
      showStats(stats);
      return;
    }
    const sawDone = await readEvents(res, (data) => {
      if (data === "[DONE]") return false;
      let chunk;
      try { chunk = JSON.parse(data); } catch (e) { showError(`unreadable event: ${data.slice(0, 200)}`); return false; }
      if (chunk.error) { showError(describeError(null, chunk)); return false; }
      if (chunk.usage) stats.usage = chunk.usage;
      for (const choice of chunk.choices ?? []) {
        if (choice.text) {
          if (stats.ttft === null) { stats.ttftAt = performance.now(); stats.ttft = stats.ttftAt - stats.start; }
          stats.chunks += 1;
          $("output").textContent += choice.text;
        }
        if (choice.finish_reason) stats.finish = choice.finish_reason;
      }
      showStats(stats);
      return true;
    });
    stats.end = performance.now();
    showStats(stats);
    if (!sawDone && $("error").hidden) showError("the stream ended before [DONE] (server stopped or connection lost)");
  } catch (e) {
    if (e.name === "AbortError") {
      stats.end = performance.now();
      stats.finish = "stopped by you";
      showStats(stats);
    } else {
      showError(`request failed: ${e.message}`);
      refreshStatus();
    }
  } finally {
    controller = null;
    $("run").disabled = false;
    $("stop").disabled = true;
  }
}

// ---------------------------------------------------------------- wiring

$("form").addEventListener("submit", (e) => { e.preventDefault(); run(); });
$("prompt").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (!controller) run(); }
});
$("stop").addEventListener("click", () => controller?.abort());
$("clear").addEventListener("click", clearOutput);
$("api_key").addEventListener("change", refreshStatus);
// Query parameters fill the form (`/?prompt=...&max_tokens=32&seed=1`), so a setting can be shared as a link;
// `run=1` also starts it once the server's status is known (used by the headless-browser check).
function applyQuery() {
  const query = new URLSearchParams(location.search);
  for (const id of OPTION_IDS) {
    if (!query.has(id)) continue;
    const value = query.get(id);
    if ($(id).type === "checkbox") $(id).checked = value !== "0" && value !== "false"; else $(id).value = value;
  }
  if (query.has("prompt")) $("prompt").value = query.get("prompt");
  return query.get("run") === "1";
}

restoreOptions();
const autorun = applyQuery();
refreshStatus().then(() => { if (autorun) run(); });
setInterval(refreshStatus, 15000);
