// Article view: articles in, each scored in article mode (POST /stance), quotations
// highlighted with speaker and stance, the quotation's probabilities on selection, and the
// actors of all articles aggregated by POST /actors.

import { ActorPanel } from "./actors.js";
import { addToActors, readArticleFile, scoreArticle, setUpTokenButton } from "./api.js";
import { flatScores, scoreColumns, tableDownloads } from "./export.js";
import { chip, el, percent, runWork, SENTIMENTS, showError, STANCES } from "./ui.js";

const list = document.getElementById("article-list");
const template = document.getElementById("article-template");
const results = document.getElementById("article-results");
const marked = document.getElementById("marked-articles");
const details = document.getElementById("quote-details-body");
const actors = new ActorPanel(document.getElementById("actors"), "articles");
let analysed = []; // [{article, reply}]

function addArticle({ text = "", date = "", name = "" } = {}) {
  const entry = template.content.firstElementChild.cloneNode(true);
  entry.querySelector("[data-article-text]").value = text;
  entry.querySelector("[data-article-date]").value = date || "";
  entry.querySelector("[data-article-name]").textContent = name ? `(${name})` : "";
  entry.dataset.name = name;
  entry.querySelector("[data-remove-article]").addEventListener("click", () => {
    entry.remove();
    if (!list.children.length) addArticle();
    renumber();
    list.querySelector("textarea").focus();
  });
  list.append(entry);
  renumber();
  return entry;
}

function renumber() {
  [...list.children].forEach((entry, index) => {
    entry.querySelector("[data-article-number]").textContent = index + 1;
    entry.querySelector("[data-remove-article]").hidden = list.children.length === 1;
  });
}

function entries() {
  return [...list.children]
    .map((entry, index) => ({
      name: entry.dataset.name || `article ${index + 1}`,
      text: entry.querySelector("[data-article-text]").value,
      date: entry.querySelector("[data-article-date]").value || null,
    }))
    .filter((article) => article.text.trim());
}

async function uploadArticles(file) {
  const reply = await runWork(`Reading ${file.name}…`, (progress) =>
    readArticleFile(file, { signal: progress.signal }),
  );
  if (!reply) return;
  const usable = reply.articles.filter((a) => !a.error);
  const refused = reply.articles.filter((a) => a.error);
  if (list.children.length === 1 && !entries().length) list.replaceChildren();
  for (const article of usable) addArticle({ text: article.text, date: article.date, name: article.id });
  if (!list.children.length) addArticle();
  if (refused.length) {
    showError(
      `${refused.length} article(s) of ${file.name} were left out: ` +
        refused.map((a) => `${a.id} (${a.error})`).join("; ") + ".",
    );
  }
}

async function analyse() {
  const articles = entries();
  if (!articles.length) {
    showError("Paste an article first, or upload a .txt or .jsonl file.");
    return;
  }
  analysed = [];
  marked.replaceChildren();
  details.replaceChildren(el("p", { class: "hint" }, "None selected yet."));
  results.hidden = false;
  await runWork("Analysing articles…", async (progress) => {
    let running = null;
    for (const [index, article] of articles.entries()) {
      progress.update(index, articles.length, `Analysing article ${index + 1} of ${articles.length}…`);
      const reply = await scoreArticle(article, { signal: progress.signal });
      analysed.push({ article, reply });
      marked.append(markedArticle(article, reply, analysed.length - 1));
      running = await addToActors(running, reply.quotes, { signal: progress.signal });
      actors.show(running.actors);
    }
    progress.update(articles.length, articles.length);
  });
  results.dataset.state = "done";
  const heading = document.getElementById("quotations-title");
  heading.setAttribute("tabindex", "-1");
  heading.focus();
  heading.scrollIntoView({ block: "start" });
}

/** The article's text with each quotation as a focusable mark and a tag of speaker and stance. */
function markedArticle(article, reply, number) {
  const body = el("div", { class: "article-text" });
  const quotes = reply.quotes
    .map((quote, index) => ({ quote, index }))
    .sort((a, b) => a.quote.start - b.quote.start);
  let cursor = 0;
  for (const { quote, index } of quotes) {
    if (quote.start < cursor) continue; // overlaps the previous quotation: listed, not marked
    body.append(article.text.slice(cursor, quote.start));
    const tagId = `tag-${number}-${index}`;
    const mark = el(
      "mark",
      {
        class: "quotation",
        tabindex: 0,
        role: "button",
        "aria-describedby": tagId,
        "data-quote": `${number}:${index}`,
        "data-speaker": quote.actor || "",
      },
      article.text.slice(quote.start, quote.end),
    );
    const select = () => showDetails(quote, article, mark);
    mark.addEventListener("click", select);
    mark.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select();
      }
    });
    const tag = el(
      "span",
      { class: "quote-tag", id: tagId },
      el("span", { class: "speaker" }, quote.actor || "no speaker"),
      ...Object.entries(quote.stance).map(([target, score]) => chip(score.label, target)),
    );
    body.append(mark, " ", tag);
    cursor = quote.end;
  }
  body.append(article.text.slice(cursor));
  const found = `${reply.quotes.length} quotation${reply.quotes.length === 1 ? "" : "s"}`;
  return el(
    "article",
    { class: "marked", "data-article": number, "aria-label": article.name },
    el("h3", {}, `${article.name}${article.date ? ` · ${article.date}` : ""} · ${found}`),
    body,
  );
}

function showDetails(quote, article, mark) {
  for (const other of marked.querySelectorAll("mark[aria-pressed]")) other.removeAttribute("aria-pressed");
  mark.setAttribute("aria-pressed", "true");
  const rows = Object.entries(quote.stance).map(([target, score]) =>
    el(
      "tr",
      { "data-target": target },
      el("th", { scope: "row" }, target),
      el("td", {}, chip(score.label)),
      ...STANCES.map((label) => el("td", { class: "num" }, percent(score.probabilities[label]))),
    ),
  );
  const sentiment = quote.sentiment;
  details.replaceChildren(
    el("blockquote", {}, quote.text),
    el(
      "p",
      {},
      el("strong", {}, quote.actor || "No speaker found"),
      quote.speaker && quote.speaker !== quote.actor ? ` (written "${quote.speaker}")` : "",
      ` · ${quote.direct ? "direct quotation" : "reported speech"}`,
      quote.cue ? ` · cue "${quote.cue}"` : "",
      ` · ${article.name}`,
    ),
    el(
      "table",
      { class: "compact", "data-table": "probabilities" },
      el("caption", {}, "Stance probabilities"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Target"), el("th", { scope: "col" }, "Stance"),
        ...STANCES.map((label) => el("th", { scope: "col", class: "num" }, `P(${label})`)))),
      el("tbody", {}, rows),
    ),
    sentiment
      ? el(
          "p",
          { "data-sentiment": sentiment.label },
          "Sentiment: ",
          chip(sentiment.label),
          " ",
          SENTIMENTS.map((label) => `${label} ${percent(sentiment.probabilities[label])}`).join(" · "),
        )
      : el("p", {}, "This model has no sentiment head."),
  );
}

function quoteDownloads() {
  const data = () => {
    const targets = analysed.length ? analysed[0].reply.targets : [];
    const columns = ["article", "id", "speaker", "actor", "start", "end", "cue", "direct", "date", "text", ...scoreColumns(targets)];
    const rows = analysed.flatMap(({ article, reply }) =>
      reply.quotes.map((quote) => ({ ...quote, article: article.name, ...flatScores(quote, targets) })),
    );
    const json = analysed.map(({ article, reply }) => ({ article: article.name, date: article.date, ...reply }));
    return { columns, rows, json };
  };
  document.getElementById("quote-downloads").append(tableDownloads("article-quotes", data));
}

setUpTokenButton();
addArticle();
quoteDownloads();
document.getElementById("add-article").addEventListener("click", () => {
  addArticle().querySelector("textarea").focus();
});
document.getElementById("article-file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) uploadArticles(file).finally(() => (event.target.value = ""));
});
document.getElementById("analyse").addEventListener("click", analyse);
