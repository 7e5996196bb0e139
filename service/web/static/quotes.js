// Quotes view: a file read by the service (POST /files/quotes) or pasted quotes, scored in
// batches within the service's limits (POST /stance) with progress, shown in a sortable,
// filterable table while the per-actor chart and the timeline grow (POST /actors).

import { ActorPanel, TimelinePanel } from "./actors.js";
import { addToActors, readQuoteFile, scoreQuotes, setUpTokenButton } from "./api.js";
import { flatScores, scoreColumns, tableDownloads } from "./export.js";
import { DataTable } from "./table.js";
import { chip, el, nextFrame, percent, runWork, showError, STANCES } from "./ui.js";

const summary = document.getElementById("file-summary");
const scores = document.getElementById("scores");
const filter = document.getElementById("quote-filter");
const stanceFilter = document.getElementById("stance-filter");
const actors = new ActorPanel(document.getElementById("actors"), "quotes");
const timeline = new TimelinePanel(document.getElementById("timeline"), "quotes");
let rows = []; // quote rows, each with `scored` once the service answered
let targets = [];
let table = null;

/** The quotes to score: from the uploaded file or the paste box, as the service read them. */
async function quoteRows(progress) {
  const [file] = document.getElementById("quote-file").files;
  const pasted = document.getElementById("quote-paste").value;
  const format = document.getElementById("paste-format").value;
  if (!file && format === "lines") {
    const lines = pasted.split(/\r?\n/).filter((line) => line.trim());
    return { rows: lines.map((text, i) => ({ row: i + 1, id: i + 1, text, actor: null, date: null, error: null })), name: "pasted quotes" };
  }
  const options = {};
  for (const input of document.querySelectorAll("[data-column]")) options[input.dataset.column] = input.value.trim();
  const upload = file || new File([pasted], `pasted.${format}`, { type: "text/plain" });
  const reply = await readQuoteFile(upload, options, { signal: progress.signal });
  const refused = reply.rows - reply.usable;
  const notes = [`${reply.file.name}: ${reply.rows.toLocaleString("en")} rows read (${reply.file.format}` +
    `${reply.file.compression ? `, ${reply.file.compression}` : ""}), text in "${reply.file.roles.text}"` +
    `${reply.file.roles.actor ? `, actor in "${reply.file.roles.actor}"` : ", no actor column"}` +
    `${reply.file.roles.date ? `, date in "${reply.file.roles.date}"` : ", no date column"}.`];
  if (refused) notes.push(`${refused} row(s) cannot be scored; the table says why.`);
  notes.push(...reply.warnings);
  return { rows: reply.quotes, name: reply.file.name, notes };
}

async function score() {
  if (!document.getElementById("quote-file").files.length && !document.getElementById("quote-paste").value.trim()) {
    showError("Choose a quotes file or paste some quotes first.");
    return;
  }
  await runWork("Reading the quotes…", async (progress) => {
    const read = await quoteRows(progress);
    rows = read.rows;
    summary.textContent = (read.notes || [`${rows.length} pasted quotes.`]).join(" ");
    summary.hidden = false;
    const usable = rows.filter((row) => !row.error);
    if (!usable.length) {
      showError("None of these rows can be scored; see the table for why.");
    }
    const dated = usable.some((row) => row.date);
    let running = null;
    let scored = 0; // answers come in the order the quotes were sent
    progress.update(0, usable.length, "Scoring quotes…");
    scores.hidden = false;
    table = null;
    await scoreQuotes(
      usable.map(({ id, text, actor, date }) => ({ id, text, actor, date })),
      {
        signal: progress.signal,
        onBatch: async (reply, done, total) => {
          if (!table) setUpTable(reply.targets);
          reply.quotes.forEach((quote, k) => (usable[scored + k].scored = quote));
          scored += reply.quotes.length;
          running = await addToActors(running, reply.quotes, { by: dated ? "month" : null, signal: progress.signal });
          progress.update(done, total, `Scored ${done.toLocaleString("en")} of ${total.toLocaleString("en")} quotes…`);
          table.setRows(rows);
          actors.show(running.actors);
          timeline.show(running.timeline);
          await nextFrame();
        },
      },
    );
    if (!table) setUpTable([]);
    table.setRows(rows);
    scores.dataset.state = "done";
  });
}

function setUpTable(answerTargets) {
  targets = answerTargets;
  const columns = [
    { key: "row", label: "Row", numeric: true },
    { key: "actor", label: "Actor" },
    { key: "date", label: "Date" },
    { key: "text", label: "Quote", cell: (row) => el("span", { class: "quote-text" }, String(row.text ?? "")) },
    ...targets.map((target) => ({
      key: target,
      label: target,
      value: (row) => (row.scored ? row.scored.stance[target].probabilities.favor : null),
      cell: (row) => stanceCell(row, target),
    })),
    {
      key: "sentiment",
      label: "Sentiment",
      value: (row) => (row.scored && row.scored.sentiment ? row.scored.sentiment.label : null),
      cell: (row) => (row.scored && row.scored.sentiment ? chip(row.scored.sentiment.label) : ""),
    },
  ];
  table = new DataTable(document.getElementById("score-table"), columns, {
    rowAttributes: (row) => ({
      "data-row": row.row,
      "data-error": row.error ? "true" : null,
      ...Object.fromEntries(targets.map((t) => [`data-stance-${t}`, row.scored ? row.scored.stance[t].label : null])),
    }),
  });
  stanceFilter.replaceChildren(
    el("option", { value: "" }, "any"),
    ...targets.flatMap((t) => STANCES.map((label) => el("option", { value: `${t}:${label}` }, `${t}: ${label}`))),
  );
  applyFilter();
}

function stanceCell(row, target) {
  if (row.error) return el("span", { class: "row-error" }, `not scored: ${row.error}`);
  if (!row.scored) return el("span", { class: "hint" }, "waiting…");
  const score = row.scored.stance[target];
  return el("span", {}, chip(score.label), ` favor ${percent(score.probabilities.favor)} · against ${percent(score.probabilities.against)}`);
}

function applyFilter() {
  if (!table) return;
  const words = filter.value.trim().toLowerCase();
  const [target, label] = stanceFilter.value ? stanceFilter.value.split(":") : [null, null];
  table.setFilter((row) => {
    if (words && !`${row.text} ${row.actor || ""}`.toLowerCase().includes(words)) return false;
    if (target && (!row.scored || row.scored.stance[target].label !== label)) return false;
    return true;
  });
}

setUpTokenButton();
filter.addEventListener("input", applyFilter);
stanceFilter.addEventListener("change", applyFilter);
document.getElementById("score-quotes").addEventListener("click", score);
document.getElementById("score-downloads").append(
  tableDownloads("quote-scores", () => {
    const scored = rows.filter((row) => row.scored);
    return {
      columns: ["row", "id", "actor", "date", "text", ...scoreColumns(targets), "error"],
      rows: rows.map((row) => ({ ...row, ...(row.scored ? flatScores(row.scored, targets) : {}) })),
      json: scored.map((row) => ({ row: row.row, ...row.scored })),
    };
  }),
);
