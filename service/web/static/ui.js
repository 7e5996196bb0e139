// What every view shares on screen: building elements, stance chips (colour plus text),
// number formats, the error line and the progress bar of long work.

/** A DOM element with attributes (`data-*`, `aria-*`, `class`, ...) and children. */
export function el(tag, attributes = {}, ...children) {
  const svg = ["svg", "g", "rect", "line", "text", "path", "circle", "title", "desc", "polyline"];
  const node = svg.includes(tag)
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const STANCES = ["favor", "against", "none"];
export const SENTIMENTS = ["positive", "negative", "neutral"];

/** "62%" */
export function percent(p) {
  return `${Math.round(p * 100)}%`;
}

/** "+0.62" or "−0.40" (a real minus sign), for net stance. */
export function signed(value) {
  if (value === null || value === undefined) return "–";
  const text = Math.abs(value).toFixed(2);
  return value > 0.004 ? `+${text}` : value < -0.004 ? `\u2212${text}` : text;
}

/** A label chip: its colour says the label and so does its text. */
export function chip(label, prefix = "") {
  return el(
    "span",
    { class: `chip chip-${label}`, "data-label": label },
    prefix ? `${prefix}: ${label}` : label,
  );
}

// --- errors and progress ------------------------------------------------------------------------

const errorBox = () => document.getElementById("error");

/** Show an error as a sentence in the page's alert line. */
export function showError(error) {
  const box = errorBox();
  box.textContent = typeof error === "string" ? error : error.message || String(error);
  box.hidden = false;
}

export function clearError() {
  const box = errorBox();
  box.textContent = "";
  box.hidden = true;
}

/** A note (not an error) under the heading, e.g. what the service could not do. */
export function showNote(container, text) {
  container.textContent = text;
  container.hidden = !text;
}

/**
 * Run long work with the progress bar and a Stop button; errors become the alert line.
 * `work(progress)` gets `{signal, update(done, total, text)}`; returns its result or null.
 */
export async function runWork(label, work) {
  const box = document.getElementById("progress");
  const bar = document.getElementById("progress-bar");
  const text = document.getElementById("progress-label");
  const stop = document.getElementById("progress-cancel");
  const controller = new AbortController();
  const onStop = () => controller.abort();
  clearError();
  text.textContent = label;
  bar.removeAttribute("value");
  box.hidden = false;
  box.dataset.state = "running";
  stop.addEventListener("click", onStop);
  const progress = {
    signal: controller.signal,
    update(done, total, message) {
      bar.max = Math.max(total, 1);
      bar.value = done;
      text.textContent = message || `${label} ${done.toLocaleString("en")} of ${total.toLocaleString("en")}`;
    },
  };
  try {
    return await work(progress);
  } catch (error) {
    if (error.name === "AbortError") {
      showError("Stopped: what was done before you pressed Stop is shown.");
    } else {
      showError(error.name === "ApiError" ? error : `Something went wrong in the page: ${error.message}`);
      if (error.name !== "ApiError") console.error(error);
    }
    return null;
  } finally {
    stop.removeEventListener("click", onStop);
    box.hidden = true;
    box.dataset.state = "idle";
  }
}

/** Let the browser paint between chunks of work, so the page stays responsive. */
export function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}
