// A sortable, filterable table: column headers are buttons (aria-sort says the order), a
// filter function narrows the rows, and long tables show their first rows with a count.

import { el } from "./ui.js";

/**
 * columns: [{key, label, value(row) for sorting and CSV, cell(row) -> node or text, numeric}]
 * options: {caption, rowAttributes(row) -> {data-*}, limit}
 */
export class DataTable {
  constructor(table, columns, { rowAttributes = () => ({}), limit = 500, onRowsShown } = {}) {
    Object.assign(this, { table, columns, rowAttributes, limit, onRowsShown });
    this.rows = [];
    this.keep = () => true;
    this.sortKey = null;
    this.descending = false;
    this.head = el("thead");
    this.body = el("tbody");
    this.count = table.closest("section")?.querySelector("[data-row-count]");
    table.replaceChildren(...[table.querySelector("caption")].filter(Boolean), this.head, this.body);
    this.renderHead();
  }

  renderHead() {
    const cells = this.columns.map((column) => {
      const sorted = this.sortKey === column.key;
      const order = sorted ? (this.descending ? "descending" : "ascending") : null;
      const button = el(
        "button",
        { type: "button", class: "sort", "data-sort": column.key },
        column.label,
        el("span", { class: "sort-mark", "aria-hidden": "true" }, sorted ? (this.descending ? " ▼" : " ▲") : ""),
      );
      button.addEventListener("click", () => this.sortBy(column.key));
      return el("th", { scope: "col", "aria-sort": order, class: column.numeric ? "num" : null }, button);
    });
    this.head.replaceChildren(el("tr", {}, cells));
  }

  setRows(rows) {
    this.rows = rows;
    this.render();
  }

  setFilter(keep) {
    this.keep = keep;
    this.render();
  }

  sortBy(key) {
    this.descending = this.sortKey === key ? !this.descending : false;
    this.sortKey = key;
    this.renderHead();
    this.render();
    this.head.querySelector(`[data-sort="${key}"]`).focus();
  }

  /** The rows as shown: filtered, then sorted. */
  visibleRows() {
    const rows = this.rows.filter(this.keep);
    const column = this.columns.find((c) => c.key === this.sortKey);
    if (!column) return rows;
    const value = column.value || ((row) => row[column.key]);
    const direction = this.descending ? -1 : 1;
    return rows
      .map((row, index) => ({ row, index, key: value(row) }))
      .sort((a, b) => direction * compare(a.key, b.key) || a.index - b.index)
      .map((entry) => entry.row);
  }

  render() {
    const rows = this.visibleRows();
    const shown = rows.slice(0, this.limit);
    this.body.replaceChildren(
      ...shown.map((row) =>
        el(
          "tr",
          this.rowAttributes(row),
          this.columns.map((column) => {
            const content = column.cell ? column.cell(row) : row[column.key];
            return el("td", { class: column.numeric ? "num" : null }, content ?? "");
          }),
        ),
      ),
    );
    if (this.count) {
      const total = this.rows.length;
      this.count.textContent =
        rows.length > shown.length
          ? `Showing the first ${shown.length.toLocaleString("en")} of ${rows.length.toLocaleString("en")} matching rows (${total.toLocaleString("en")} in all); filter or sort to see others.`
          : `${rows.length.toLocaleString("en")} of ${total.toLocaleString("en")} rows.`;
    }
    if (this.onRowsShown) this.onRowsShown(rows);
  }
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined || a === "") return 1;
  if (b === null || b === undefined || b === "") return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { numeric: true, sensitivity: "base" });
}
