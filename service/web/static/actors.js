// Where each actor stands, as the API aggregated it: the per-actor table with its chart, and
// the timeline by month. Used by the article and quotes views.

import { netStanceChart, timelineChart } from "./chart.js";
import { chartDownloads, flatSummary, SUMMARY_COLUMNS, tableDownloads } from "./export.js";
import { DataTable } from "./table.js";
import { chip, el, signed } from "./ui.js";

const ACTOR_COLUMNS = [
  { key: "actor", label: "Actor" },
  { key: "target", label: "Target" },
  {
    key: "quotes",
    label: "Quotes (f/a/n)",
    numeric: true,
    cell: (s) => `${s.quotes} (${s.counts.favor}/${s.counts.against}/${s.counts.none})`,
  },
  { key: "stance", label: "Stance", cell: (s) => chip(s.stance) },
  { key: "net_stance", label: "Net stance", numeric: true, cell: (s) => signed(s.net_stance) },
  {
    key: "sentiment",
    label: "Sentiment",
    numeric: true,
    value: (s) => (s.sentiment ? s.sentiment.net : null),
    cell: (s) => signed(s.sentiment ? s.sentiment.net : null),
  },
];

/** The per-actor table (sortable, filterable) and the net stance chart of one view. */
export class ActorPanel {
  constructor(section, name) {
    this.section = section;
    this.summaries = [];
    this.figure = section.querySelector("[data-chart-figure]");
    this.table = new DataTable(section.querySelector("table"), ACTOR_COLUMNS, {
      rowAttributes: (s) => ({
        "data-actor": s.actor,
        "data-target": s.target,
        "data-stance": s.stance,
        "data-net-stance": s.net_stance,
        "data-quotes": s.quotes,
      }),
    });
    const filter = section.querySelector("[data-actor-filter]");
    filter.addEventListener("input", () => {
      const words = filter.value.trim().toLowerCase();
      this.table.setFilter((s) => !words || `${s.actor} ${s.target}`.toLowerCase().includes(words));
    });
    section.querySelector("[data-table-downloads]").append(
      tableDownloads(`${name}-actors`, () => ({
        columns: SUMMARY_COLUMNS,
        rows: this.summaries.map(flatSummary),
        json: this.summaries,
      })),
    );
    section.querySelector("[data-chart-downloads]").append(chartDownloads(`${name}-actors-chart`, this.figure));
  }

  /** Show the `actors` of an /actors answer. */
  show(summaries) {
    this.summaries = summaries;
    this.section.hidden = false;
    this.table.setRows(summaries);
    this.figure.replaceChildren(netStanceChart(`${this.section.id}-chart`, summaries));
    this.section.dataset.ready = "true";
  }
}

/** Each actor's net stance by month toward a chosen target (shown when quotes have dates). */
export class TimelinePanel {
  constructor(section, name) {
    this.section = section;
    this.timeline = [];
    this.figure = section.querySelector("[data-chart-figure]");
    this.choice = section.querySelector("[data-timeline-target]");
    this.choice.addEventListener("change", () => this.draw());
    section.querySelector("[data-table-downloads]").append(
      tableDownloads(`${name}-timeline`, () => ({
        columns: SUMMARY_COLUMNS,
        rows: this.timeline.map(flatSummary),
        json: this.timeline,
      })),
    );
    section.querySelector("[data-chart-downloads]").append(chartDownloads(`${name}-timeline-chart`, this.figure));
  }

  /** Show the `timeline` of an /actors answer (hidden when no quote had a date). */
  show(timeline) {
    this.timeline = timeline.filter((s) => s.period);
    this.section.hidden = this.timeline.length === 0;
    const targets = [...new Set(this.timeline.map((s) => s.target))];
    const chosen = this.choice.value;
    if (targets.join() !== [...this.choice.options].map((o) => o.value).join()) {
      this.choice.replaceChildren(...targets.map((t) => el("option", { value: t }, t)));
      if (targets.includes(chosen)) this.choice.value = chosen;
    }
    this.draw();
  }

  draw() {
    if (!this.timeline.length) return;
    this.figure.replaceChildren(timelineChart(`${this.section.id}-chart`, this.timeline, this.choice.value));
    this.section.dataset.ready = "true";
  }
}
