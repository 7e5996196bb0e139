// Label view: the service picks the quotes most worth labeling (POST /suggest, the selection of
// `stance suggest`), the analyst labels each target and the sentiment with one key per field,
// can undo, and downloads the labels as a labeled CSV for `stance train`. Nothing is stored.

import { limits, readQuoteFile, scoreQuotes, setUpTokenButton, suggest } from "./api.js";
import { downloadCsv, downloadJson, LABELED_COLUMNS, labeledRows } from "./export.js";
import { el, percent, runWork, SENTIMENTS, showError, showNote, STANCES } from "./ui.js";

const queue = document.getElementById("label-queue");
const status = document.getElementById("label-status");
const note = document.getElementById("selection-note");
let items = []; // {id, text, actor, date, source, guess, uncertainty, labels: {field: value}}
let fields = []; // the targets, then "sentiment" when the model has a sentiment head
let cursor = { item: 0, field: 0 };
let history = []; // undo stack: {item, field, previous, cursor}

function options(field) {
  return field === "sentiment" ? SENTIMENTS : STANCES;
}

function guessOf(item, field) {
  return field === "sentiment" ? item.guess.sentiment : item.guess.stance[field];
}

/** The candidates: the uploaded file as the service read it, or the pasted lines. */
async function candidates(progress) {
  const [file] = document.getElementById("label-file").files;
  if (file) {
    const reply = await readQuoteFile(file, {}, { signal: progress.signal });
    return { source: file.name, rows: reply.quotes.filter((row) => !row.error) };
  }
  const lines = document.getElementById("label-paste").value.split(/\r?\n/).filter((l) => l.trim());
  return { source: "pasted", rows: lines.map((text, i) => ({ id: i + 1, text, actor: null, date: null })) };
}

async function start() {
  const wanted = Number(document.getElementById("label-count").value) || 10;
  await runWork("Choosing quotes to label…", async (progress) => {
    const { source, rows } = await candidates(progress);
    if (!rows.length) {
      showError("There is nothing to label yet: upload a quotes file or paste quotes, one per line.");
      return;
    }
    const limit = (await limits()).max_quotes;
    const pool = rows.slice(0, limit).map(({ id, text, actor, date }) => ({ id, text, actor, date }));
    const n = Math.min(wanted, pool.length);
    const notes = rows.length > limit ? [`The first ${limit} of ${rows.length} quotes were considered (the service's limit per request).`] : [];
    let chosen;
    try {
      const reply = await suggest(pool, n, { signal: progress.signal });
      chosen = reply.suggestions.map((s) => ({ ...s.quote, uncertainty: s.uncertainty }));
      notes.unshift(`The ${chosen.length} quotes the model is least sure of, chosen as \`stance suggest\` chooses them.`);
    } catch (error) {
      if (error.code !== "suggestions_unavailable") throw error;
      chosen = [];
      await scoreQuotes(pool.slice(0, n), {
        signal: progress.signal,
        onBatch: (reply) => chosen.push(...reply.quotes.map((q) => ({ ...q, uncertainty: null }))),
      });
      notes.unshift(`${error.message} These are the first ${chosen.length} quotes in the order given, with the model's guess.`);
    }
    showNote(note, notes.join(" "));
    begin(chosen, source);
  });
}

function begin(chosen, source) {
  items = chosen.map((quote) => ({
    id: quote.id,
    text: quote.text,
    actor: quote.actor,
    date: quote.date,
    source: `workbench:${source}`,
    uncertainty: quote.uncertainty,
    guess: { stance: quote.stance, sentiment: quote.sentiment },
    labels: {},
  }));
  fields = items.length ? [...Object.keys(items[0].guess.stance), ...(items[0].guess.sentiment ? ["sentiment"] : [])] : [];
  cursor = { item: 0, field: 0 };
  history = [];
  document.getElementById("labeling").hidden = false;
  render("Labeling started.");
  queue.focus();
}

function done(item) {
  return fields.every((field) => field in item.labels);
}

function render(message = "") {
  queue.replaceChildren(...items.map(renderItem));
  const finished = items.filter(done).length;
  status.textContent = `${finished} of ${items.length} quotes labeled. ${message}`;
  status.dataset.labeled = finished;
  const current = queue.querySelector(".field.current");
  if (current) current.scrollIntoView({ block: "nearest" });
}

function renderItem(item, index) {
  const state = index === cursor.item ? "current" : done(item) ? "done" : "todo";
  const meta = [item.actor || "no actor", item.date, item.uncertainty === null ? null : `uncertainty ${item.uncertainty.toFixed(2)}`];
  return el(
    "li",
    { class: "label-item", "data-item": index, "data-state": state },
    el("blockquote", {}, item.text),
    el("p", { class: "meta" }, meta.filter(Boolean).join(" · ")),
    el("div", { class: "fields" }, fields.map((field, f) => renderField(item, index, field, f))),
  );
}

function renderField(item, index, field, f) {
  const isCurrent = index === cursor.item && f === cursor.field;
  const chosen = item.labels[field];
  const guess = guessOf(item, field);
  return el(
    "div",
    { class: `field${isCurrent ? " current" : ""}`, role: "radiogroup", "aria-label": field, "data-field": field, "data-chosen": chosen === undefined ? null : chosen ?? "skipped" },
    el("span", { class: "field-name" }, field),
    options(field).map((value, k) =>
      el(
        "button",
        {
          type: "button",
          role: "radio",
          tabindex: -1,
          class: `choice chip-${value}`,
          "aria-checked": chosen === value ? "true" : "false",
          "data-value": value,
          onclick: () => {
            cursor = { item: index, field: f };
            choose(value);
            queue.focus();
          },
        },
        el("kbd", {}, String(k + 1)),
        ` ${value}`,
      ),
    ),
    el("span", { class: "guess" }, guess ? `model: ${guess.label} ${percent(guess.probabilities[guess.label])}` : ""),
    el("span", { class: "chosen" }, chosen === undefined ? "" : chosen === null ? "left unlabeled" : `✓ ${chosen}`),
  );
}

/** Record `value` (a label, or null for unlabeled) for the field at the cursor, then move on. */
function choose(value) {
  const item = items[cursor.item];
  const field = fields[cursor.field];
  if (!item || !field) return;
  history.push({ item: cursor.item, field, had: field in item.labels, previous: item.labels[field], cursor: { ...cursor } });
  item.labels[field] = value;
  const said = `${field}: ${value === null ? "left unlabeled" : value}.`;
  move(1);
  render(items.every(done) ? `${said} All quotes are labeled; download the CSV.` : `${said} Next: ${fields[cursor.field]}.`);
}

function move(step) {
  const position = cursor.item * fields.length + cursor.field + step;
  const last = items.length * fields.length - 1;
  const clamped = Math.max(0, Math.min(last, position));
  cursor = { item: Math.floor(clamped / fields.length), field: clamped % fields.length };
}

function undoLast() {
  const last = history.pop();
  if (!last) {
    render("Nothing to undo.");
    return;
  }
  const item = items[last.item];
  if (last.had) item.labels[last.field] = last.previous;
  else delete item.labels[last.field];
  cursor = last.cursor;
  render(`Undone: ${last.field} of quote ${last.item + 1}.`);
}

queue.addEventListener("keydown", (event) => {
  if (!items.length || event.altKey || event.metaKey) return;
  const field = fields[cursor.field];
  let handled = true;
  if (event.ctrlKey) {
    if (event.key.toLowerCase() === "z") undoLast();
    else handled = false;
  } else if (["1", "2", "3"].includes(event.key)) {
    choose(options(field)[Number(event.key) - 1]);
  } else if (event.key === "Enter") {
    const guess = guessOf(items[cursor.item], field);
    if (guess) choose(guess.label);
  } else if (event.key === "0") {
    choose(null);
  } else if (event.key === "Backspace") {
    undoLast();
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    move(event.key === "ArrowDown" ? 1 : -1);
    render(`${fields[cursor.field]} of quote ${cursor.item + 1}.`);
  } else {
    handled = false;
  }
  if (handled) event.preventDefault();
});

function labeled() {
  return items
    .filter((item) => Object.values(item.labels).some((v) => v))
    .map((item) => ({
      ...item,
      stance: Object.fromEntries(fields.filter((f) => f !== "sentiment").map((f) => [f, item.labels[f] || null])),
      sentiment: item.labels.sentiment || null,
    }));
}

setUpTokenButton();
document.getElementById("suggest").addEventListener("click", start);
document.getElementById("download-labels").addEventListener("click", () => {
  const rows = labeledRows(labeled());
  if (!rows.length) {
    showError("No quote has a stance label yet: label at least one target of one quote.");
    return;
  }
  downloadCsv("labels.csv", LABELED_COLUMNS, rows);
});
document.getElementById("download-labels-json").addEventListener("click", () => {
  downloadJson("labels.json", labeled().map(({ id, text, actor, date, source, stance, sentiment }) => ({ id, text, actor, date, source, stance, sentiment })));
});
