// The page's one client of the JSON API: bearer token from the tab's session, request limits
// from /openapi.json, big inputs split into batches within them, errors turned into sentences.

const config = JSON.parse(document.getElementById("workbench-config").textContent);
const TOKEN_KEY = "stance.apiToken";

export { config };

/** An API failure, already worded for the person at the page. */
export class ApiError extends Error {
  constructor(sentence, { status = null, code = null, details = null } = {}) {
    super(sentence);
    this.name = "ApiError";
    Object.assign(this, { status, code, details });
  }
}

// How each error code is introduced; the service's own message follows.
const LEADS = {
  unauthorized: "The service refused the API token",
  invalid_request: "The service could not use this input",
  malformed_json: "The service could not read the request",
  unreadable_file: "The file could not be read",
  too_many_quotes: "The file holds too many quotes for one upload",
  body_too_large: "The request is larger than the service accepts",
  unsupported_media_type: "The service expected another kind of request",
  model_not_ready: "The model is not loaded yet; try again in a few seconds",
  unknown_target: "The model does not know that target",
  article_mode_unavailable: "This service cannot extract quotations from articles",
  suggestions_unavailable: "This service cannot pick quotes to label",
  overloaded: "The service is too busy right now",
  shutting_down: "The service is shutting down",
  internal_error: "The service failed on this request",
  not_found: "The page asked the service for something it does not have",
};

/** One readable sentence for an error reply (`{"error": {...}}`) or a reply without JSON. */
export function errorSentence(status, reply) {
  const error = reply && reply.error;
  if (!error || typeof error !== "object") {
    const kind = reply && reply.notJson && reply.type ? ` (${reply.type.split(";")[0]})` : "";
    return (
      `The service answered HTTP ${status} without an explanation${kind}. It may be ` +
      "restarting, or a proxy in front of it failed; try again in a moment."
    );
  }
  const lead = LEADS[error.code] || `The service refused the request (${error.code})`;
  const fields = error.details && Array.isArray(error.details.errors) ? error.details.errors : [];
  let detail = String(error.message || "").replace(/[.\s]+$/, "");
  if (fields.length) {
    const shown = fields.slice(0, 3).map((field) => `${field.path} ${field.message}`);
    const more = fields.length > 3 ? `, and ${fields.length - 3} more` : "";
    detail = shown.join("; ") + more;
  }
  if (error.code === "body_too_large" && error.details && error.details.max_body_bytes) {
    detail = `its limit is ${error.details.max_body_bytes.toLocaleString("en")} bytes`;
  }
  return detail ? `${lead}: ${detail}.` : `${lead}.`;
}

// --- token ------------------------------------------------------------------------------------

function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

let pendingToken = null;

/** Ask for the API token (once; concurrent callers share the dialog); rejects on cancel. */
export function askToken(reason = null) {
  if (pendingToken) return pendingToken;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  const refused = document.getElementById("token-refused");
  refused.hidden = !reason;
  refused.textContent = reason || "";
  input.value = "";
  pendingToken = new Promise((resolve, reject) => {
    const form = document.getElementById("token-form");
    const cancel = document.getElementById("token-cancel");
    const finish = (token) => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      pendingToken = null;
      if (token) {
        sessionStorage.setItem(TOKEN_KEY, token);
        resolve(token);
      } else {
        reject(new ApiError("This service needs its API token; the request was not sent."));
      }
    };
    const onSubmit = (event) => {
      event.preventDefault();
      if (input.value.trim()) finish(input.value.trim());
    };
    const onCancel = (event) => {
      event.preventDefault();
      finish(null);
    };
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    input.focus();
  });
  return pendingToken;
}

/** Show the "API token…" button when the service wants one, to change it at any time. */
export function setUpTokenButton() {
  const button = document.getElementById("token-button");
  if (!config.token_required) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    askToken().catch(() => {});
  });
}

// --- requests ---------------------------------------------------------------------------------

async function readReply(response) {
  const type = response.headers.get("Content-Type") || "";
  const text = await response.text();
  if (type.includes("application/json")) {
    try {
      return JSON.parse(text);
    } catch {
      return { notJson: true, type, text };
    }
  }
  return { notJson: true, type, text };
}

/** POST `json` or a FormData `form` to `url`; the parsed reply, or ApiError with a sentence. */
export async function post(url, { json, form, signal } = {}) {
  for (;;) {
    if (config.token_required && !storedToken()) await askToken();
    const headers = {};
    const token = storedToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let body = form;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(url, { method: "POST", headers, body, signal });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(`The service could not be reached (${error.message}). Is it running?`);
    }
    const reply = await readReply(response);
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      await askToken(errorSentence(401, reply));
      continue;
    }
    if (!response.ok || !reply || reply.notJson) {
      const error = reply && reply.error ? reply.error : {};
      throw new ApiError(errorSentence(response.status, reply), {
        status: response.status,
        code: error.code || null,
        details: error.details || null,
      });
    }
    return reply;
  }
}

let limitsReply = null;

/** The request limits the service publishes in /openapi.json (`info["x-limits"]`). */
export function limits() {
  limitsReply ??= fetch(config.urls.openapi)
    .then((response) => response.json())
    .then((document) => document.info["x-limits"])
    .catch((error) => {
      limitsReply = null;
      throw new ApiError(`The service's limits could not be read (${error.message}).`);
    });
  return limitsReply;
}

/** Quotes in batches that respect the quotes-per-request and body-size limits. */
export function batchesWithin(quotes, limit) {
  const encoder = new TextEncoder();
  const room = limit.max_body_bytes * 0.9 - 200; // the envelope and targets
  const batches = [];
  let batch = [];
  let bytes = 0;
  for (const quote of quotes) {
    const size = encoder.encode(JSON.stringify(quote)).length + 1;
    if (batch.length && (batch.length >= limit.max_quotes || bytes + size > room)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(quote);
    bytes += size;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

/** Score quotes batch by batch (POST /stance); `onBatch(reply, done, total)` after each. */
export async function scoreQuotes(quotes, { onBatch, signal } = {}) {
  const batches = batchesWithin(quotes, await limits());
  let done = 0;
  for (const batch of batches) {
    const reply = await post(config.urls.stance, { json: { quotes: batch }, signal });
    done += batch.length;
    if (onBatch) await onBatch(reply, done, quotes.length);
  }
}

/** Score one article (POST /stance, article mode): quotations, speakers, scores, actors. */
export function scoreArticle(article, { signal } = {}) {
  const body = { text: article.text };
  if (article.date) body.date = article.date;
  return post(config.urls.stance, { json: { article: body }, signal });
}

/** Extend a per-actor aggregation (POST /actors) with scored quotes; `running` may be null.
 *  More quotes than one request may carry are sent in batches, each extending the last. */
export async function addToActors(running, quotes, { by = null, signal } = {}) {
  const slim = quotes.map(({ actor, date, stance, sentiment, speaker_type }) => (
    { actor, actor_type: speaker_type ?? null, date, stance, sentiment }
  ));
  const batches = slim.length ? batchesWithin(slim, await limits()) : [[]];
  for (const batch of batches) {
    const body = { quotes: batch, by };
    if (running) {
      body.actors = running.actors;
      if (by) body.timeline = running.timeline;
    }
    running = await post(config.urls.actors, { json: body, signal });
  }
  return running;
}

/** Read an uploaded quotes file on the service (POST /files/quotes): rows ready to score. */
export function readQuoteFile(file, options = {}, { signal } = {}) {
  const form = new FormData();
  form.append("file", file, file.name);
  for (const [name, value] of Object.entries(options)) if (value) form.append(name, value);
  return post(config.urls.quote_file, { form, signal });
}

/** Read an uploaded .txt or .jsonl article file on the service (POST /files/articles). */
export function readArticleFile(file, { signal } = {}) {
  const form = new FormData();
  form.append("file", file, file.name);
  return post(config.urls.article_file, { form, signal });
}

/** The quotes most worth labeling (POST /suggest), with the model's guess for each. */
export function suggest(quotes, n, { signal } = {}) {
  return post(config.urls.suggest, { json: { quotes, n }, signal });
}
