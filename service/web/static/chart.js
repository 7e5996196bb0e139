// Hand-drawn SVG charts (no library): net stance per actor and target as diverging bars, and
// each actor's net stance by month as lines. Every mark has its value written next to it, so
// colour is never the only carrier; styles are attributes, so an exported SVG or PNG looks
// the same as on the page.

import { el, signed } from "./ui.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const INK = "#1f2937";
const GRID = "#9ca3af";
const COLOURS = { favor: "#1d4ed8", against: "#b45309", none: "#4b5563" };
const SERIES = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490"];
const DASHES = ["", "6 3", "2 3", "8 3 2 3", "4 4", "1 2"];

function svgRoot(id, width, height, title, description) {
  const svg = el("svg", {
    xmlns: "http://www.w3.org/2000/svg",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`,
    "font-family": FONT,
    "font-size": 12,
    fill: INK,
    "data-chart": id,
  });
  svg.append(
    el("title", { id: `${id}-title` }, title),
    el("desc", { id: `${id}-desc` }, description),
    el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }),
  );
  return svg;
}

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** The actors with most quotes first (over all targets), at most `limit`. */
export function leadingActors(summaries, limit) {
  const quotes = new Map();
  for (const summary of summaries) {
    quotes.set(summary.actor, Math.max(quotes.get(summary.actor) || 0, summary.quotes));
  }
  return [...quotes.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([actor]) => actor);
}

/** Net stance per actor, one panel per target: bars left (against) or right (favor) of 0. */
export function netStanceChart(id, summaries, { limit = 12 } = {}) {
  const targets = [...new Set(summaries.map((s) => s.target))];
  const actors = leadingActors(summaries, limit);
  const byKey = new Map(summaries.map((s) => [`${s.actor}\u0000${s.target}`, s]));
  const label = 170;
  const bar = 260;
  const value = 160;
  const row = 22;
  const panel = 34 + actors.length * row + 26;
  const width = label + bar + value;
  const height = targets.length * panel + 8;
  const shown = actors.length < new Set(summaries.map((s) => s.actor)).size;
  const svg = svgRoot(
    id,
    width,
    height,
    "Net stance per actor and target",
    `Net stance from -1 (against) to +1 (favor) for ${actors.length} actors` +
      `${shown ? " with the most quotes" : ""}, one panel per target.`,
  );
  targets.forEach((target, t) => {
    const top = t * panel + 8;
    const zero = label + bar / 2;
    const x = (v) => zero + (v * bar) / 2;
    const group = el("g", { "data-target": target });
    group.append(
      el("text", { x: 4, y: top + 14, "font-weight": "bold", "font-size": 13 }, target),
      el("text", { x: label, y: top + 28, fill: INK, "font-size": 11 }, "← against"),
      el("text", { x: label + bar, y: top + 28, "text-anchor": "end", "font-size": 11 }, "favor →"),
    );
    const axisTop = top + 34;
    for (const tick of [-1, -0.5, 0, 0.5, 1]) {
      group.append(
        el("line", {
          x1: x(tick),
          x2: x(tick),
          y1: axisTop,
          y2: axisTop + actors.length * row,
          stroke: tick === 0 ? INK : GRID,
          "stroke-width": tick === 0 ? 1.5 : 0.5,
          "stroke-dasharray": tick === 0 ? "" : "2 3",
        }),
      );
      group.append(
        el("text", { x: x(tick), y: axisTop + actors.length * row + 14, "text-anchor": "middle", "font-size": 10 }, tick === 0 ? "0" : signed(tick)),
      );
    }
    actors.forEach((actor, a) => {
      const y = axisTop + a * row;
      const summary = byKey.get(`${actor}\u0000${target}`);
      group.append(el("text", { x: label - 8, y: y + 15, "text-anchor": "end" }, clip(actor, 24)));
      if (!summary) {
        group.append(el("text", { x: label + bar + 8, y: y + 15, fill: "#4b5563" }, "no quotes"));
        return;
      }
      const net = summary.net_stance;
      const mark = el("rect", {
        x: Math.min(x(0), x(net)),
        y: y + 4,
        width: Math.max(Math.abs(x(net) - x(0)), 1.5),
        height: row - 8,
        fill: COLOURS[summary.stance] || COLOURS.none,
        "data-actor": actor,
        "data-net-stance": net,
      });
      mark.append(el("title", {}, `${actor}, ${target}: ${signed(net)} (${summary.stance})`));
      const quotes = `${summary.quotes} quote${summary.quotes === 1 ? "" : "s"}`;
      group.append(
        mark,
        el("text", { x: label + bar + 8, y: y + 15 }, `${signed(net)} ${summary.stance} · ${quotes}`),
      );
    });
    svg.append(group);
  });
  return svg;
}

/** Each actor's net stance toward one target, period by period. */
export function timelineChart(id, timeline, target, { limit = 6 } = {}) {
  const rows = timeline.filter((s) => s.target === target && s.period);
  const periods = [...new Set(rows.map((s) => s.period))].sort();
  const actors = leadingActors(rows, limit);
  const left = 48;
  const plot = 420;
  const legend = 230;
  const top = 16;
  const high = 200;
  const width = left + plot + legend;
  const height = top + high + 40;
  const svg = svgRoot(
    id,
    width,
    height,
    `Net stance toward ${target} by period`,
    `Net stance from -1 (against) to +1 (favor) of ${actors.length} actors over ` +
      `${periods.length} period(s): ${periods[0] || ""} to ${periods[periods.length - 1] || ""}.`,
  );
  const x = (i) => left + (periods.length === 1 ? plot / 2 : (i * plot) / (periods.length - 1));
  const y = (v) => top + ((1 - v) * high) / 2;
  for (const tick of [-1, -0.5, 0, 0.5, 1]) {
    svg.append(
      el("line", { x1: left, x2: left + plot, y1: y(tick), y2: y(tick), stroke: tick === 0 ? INK : GRID, "stroke-width": tick === 0 ? 1.2 : 0.5, "stroke-dasharray": tick === 0 ? "" : "2 3" }),
      el("text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end", "font-size": 10 }, tick === 0 ? "0" : signed(tick)),
    );
  }
  svg.append(
    el("text", { x: 4, y: y(0.75), "font-size": 10 }, "favor"),
    el("text", { x: 4, y: y(-0.75), "font-size": 10 }, "against"),
  );
  const step = Math.max(1, Math.ceil(periods.length / 8));
  periods.forEach((period, i) => {
    if (i % step === 0 || i === periods.length - 1) {
      svg.append(el("text", { x: x(i), y: top + high + 18, "text-anchor": "middle", "font-size": 10 }, period));
    }
  });
  actors.forEach((actor, a) => {
    const colour = SERIES[a % SERIES.length];
    const points = periods
      .map((period, i) => [i, rows.find((s) => s.actor === actor && s.period === period)])
      .filter(([, summary]) => summary);
    const group = el("g", { "data-actor": actor });
    if (points.length > 1) {
      group.append(
        el("polyline", {
          points: points.map(([i, s]) => `${x(i)},${y(s.net_stance)}`).join(" "),
          fill: "none",
          stroke: colour,
          "stroke-width": 2,
          "stroke-dasharray": DASHES[a % DASHES.length],
        }),
      );
    }
    for (const [i, summary] of points) {
      const dot = el("circle", { cx: x(i), cy: y(summary.net_stance), r: 3.5, fill: colour, "data-period": summary.period });
      dot.append(el("title", {}, `${actor}, ${summary.period}: ${signed(summary.net_stance)} (${summary.quotes} quotes)`));
      group.append(dot);
    }
    const ly = top + 8 + a * 22;
    group.append(
      el("line", { x1: left + plot + 16, x2: left + plot + 40, y1: ly, y2: ly, stroke: colour, "stroke-width": 2, "stroke-dasharray": DASHES[a % DASHES.length] }),
      el("text", { x: left + plot + 46, y: ly + 4 }, clip(actor, 28)),
    );
    svg.append(group);
  });
  return svg;
}
