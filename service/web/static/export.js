// Downloads: tables as CSV and JSON, charts as SVG and PNG, labels as a labeled CSV in the
// training contract (text,target,stance,sentiment,actor,date,source,id) for `stance train`.

import { el, SENTIMENTS, STANCES } from "./ui.js";

function save(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** One CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
function field(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV text of `rows` (objects) with `columns` (names) as the header. */
export function csv(columns, rows) {
  const lines = [columns.map(field).join(",")];
  for (const row of rows) lines.push(columns.map((column) => field(row[column])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

export function downloadCsv(name, columns, rows) {
  save(name, new Blob([csv(columns, rows)], { type: "text/csv;charset=utf-8" }));
}

export function downloadJson(name, data) {
  save(name, new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
}

function svgText(svg) {
  return new XMLSerializer().serializeToString(svg);
}

export function downloadSvg(name, svg) {
  save(name, new Blob([svgText(svg)], { type: "image/svg+xml" }));
}

/** The chart drawn at twice its size onto a canvas, saved as PNG. */
export function downloadPng(name, svg) {
  const width = Number(svg.getAttribute("width"));
  const height = Number(svg.getAttribute("height"));
  const url = URL.createObjectURL(new Blob([svgText(svg)], { type: "image/svg+xml" }));
  const image = new Image();
  image.onload = () => {
    const canvas = el("canvas", { width: width * 2, height: height * 2 });
    const context = canvas.getContext("2d");
    context.scale(2, 2);
    context.drawImage(image, 0, 0, width, height);
    URL.revokeObjectURL(url);
    canvas.toBlob((blob) => save(name, blob), "image/png");
  };
  image.src = url;
}

/** Flat score columns as `stance score` writes them: `<target>_stance`, `<target>_favor`, ... */
export function scoreColumns(targets) {
  const columns = [];
  for (const target of targets) {
    columns.push(`${target}_stance`, ...STANCES.map((label) => `${target}_${label}`));
  }
  columns.push("sentiment", ...SENTIMENTS.map((label) => `sentiment_${label}`));
  return columns;
}

/** A scored quote (API shape) as one flat row of `scoreColumns`. */
export function flatScores(quote, targets) {
  const row = {};
  for (const target of targets) {
    const score = quote.stance[target];
    row[`${target}_stance`] = score.label;
    for (const label of STANCES) row[`${target}_${label}`] = score.probabilities[label];
  }
  row.sentiment = quote.sentiment ? quote.sentiment.label : null;
  for (const label of SENTIMENTS) {
    row[`sentiment_${label}`] = quote.sentiment ? quote.sentiment.probabilities[label] : null;
  }
  return row;
}

// The columns of the actors file `stance score --actors` writes.
export const SUMMARY_COLUMNS = [
  "actor",
  "target",
  "period",
  "quotes",
  ...STANCES,
  "stance",
  "net_stance",
  "mean_confidence",
  ...SENTIMENTS.map((label) => `sentiment_${label}`),
  "sentiment_net",
  "first_date",
  "last_date",
];

/** An actor summary (API shape) as one flat row of `SUMMARY_COLUMNS`. */
export function flatSummary(summary) {
  const row = { ...summary, sentiment_net: summary.sentiment ? summary.sentiment.net : null };
  for (const label of STANCES) row[label] = summary.counts[label];
  for (const label of SENTIMENTS) {
    row[`sentiment_${label}`] = summary.sentiment ? summary.sentiment.counts[label] : null;
  }
  return row;
}

export const LABELED_COLUMNS = ["text", "target", "stance", "sentiment", "actor", "date", "source", "id"];

/** Rows of the labeled-CSV contract: one per (quote, labeled target), sentiment on each. */
export function labeledRows(items) {
  const rows = [];
  for (const item of items) {
    for (const [target, stance] of Object.entries(item.stance)) {
      if (!stance) continue;
      rows.push({
        text: item.text,
        target,
        stance,
        sentiment: item.sentiment || "",
        actor: item.actor || "",
        date: item.date || "",
        source: item.source || "",
        id: item.id ?? "",
      });
    }
  }
  return rows;
}

/** Buttons that download what `data()` gives, as CSV and JSON. */
export function tableDownloads(name, data) {
  const asCsv = el("button", { type: "button", class: "quiet", "data-download": `${name}-csv` }, "CSV");
  const asJson = el("button", { type: "button", class: "quiet", "data-download": `${name}-json` }, "JSON");
  asCsv.addEventListener("click", () => {
    const { columns, rows } = data();
    downloadCsv(`${name}.csv`, columns, rows);
  });
  asJson.addEventListener("click", () => downloadJson(`${name}.json`, data().json));
  return el("span", { class: "downloads" }, "Download ", asCsv, " ", asJson);
}

/** Buttons that download the chart currently in `figure` as SVG and PNG. */
export function chartDownloads(name, figure) {
  const chart = () => figure.querySelector("svg");
  const asSvg = el("button", { type: "button", class: "quiet", "data-download": `${name}-svg` }, "SVG");
  const asPng = el("button", { type: "button", class: "quiet", "data-download": `${name}-png` }, "PNG");
  asSvg.addEventListener("click", () => chart() && downloadSvg(`${name}.svg`, chart()));
  asPng.addEventListener("click", () => chart() && downloadPng(`${name}.png`, chart()));
  return el("span", { class: "downloads" }, "Download ", asSvg, " ", asPng);
}
