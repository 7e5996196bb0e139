"""The workbench pages in-process (Flask client, html.parser): fast checks before any browser."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from service.api.app import create_app, service_state
from service.api.config import ServiceConfig

STATIC = Path(__file__).resolve().parents[1] / "service" / "web" / "static"
TOKEN = "s3cret-token-value"
VIEWS = {
    "/": ("article", ["article-list", "analyse", "article-file", "marked-articles", "actors"]),
    "/quotes": ("quotes", ["quote-file", "quote-paste", "score-quotes", "score-table", "timeline"]),
    "/label": ("label", ["label-file", "label-paste", "suggest", "label-queue", "download-labels"]),
}


class Page(HTMLParser):
    """What the tests look at: ids, URLs in src/href, labels and form controls, attributes."""

    def __init__(self):
        super().__init__()
        self.ids: dict[str, dict] = {}
        self.urls: list[str] = []
        self.label_for: set[str] = set()
        self.controls: list[dict] = []
        self.open_labels = 0
        self.scripts: dict[str, str] = {}
        self._script_id = None
        self.root: dict = {}
        self.current: list[str] = []  # links marked aria-current="page"

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.root = attributes
        if tag == "a" and attributes.get("aria-current") == "page":
            self.current.append(attributes["href"])
        if "id" in attributes:
            self.ids[attributes["id"]] = {"tag": tag, **attributes}
        for name in ("src", "href", "action"):
            if attributes.get(name):
                self.urls.append(attributes[name])
        if tag == "label":
            self.open_labels += 1
            if "for" in attributes:
                self.label_for.add(attributes["for"])
        if tag in ("input", "textarea", "select"):
            self.controls.append({"tag": tag, "in_label": self.open_labels > 0, **attributes})
        if tag == "script" and attributes.get("type") == "application/json":
            self._script_id = attributes.get("id")

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1
        if tag == "script":
            self._script_id = None

    def handle_data(self, data):
        if self._script_id:
            self.scripts[self._script_id] = self.scripts.get(self._script_id, "") + data


@pytest.fixture(scope="module")
def client(default_bundle):
    app = create_app(ServiceConfig(api_token=TOKEN, encoder_threads=1), bundle=default_bundle)
    yield app.test_client()
    service_state(app).batcher.stop()


def _page(client, path: str) -> tuple[Page, object]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = Page()
    page.feed(response.get_data(as_text=True))
    return page, response


@pytest.mark.parametrize("path", list(VIEWS))
def test_each_view_renders_its_template_with_its_hooks(client, path):
    view, ids = VIEWS[path]
    page, response = _page(client, path)
    assert page.root.get("lang") == "en"
    assert page.ids["main"]["tag"] == "main"
    assert {"error", "progress", "token-dialog", *ids} <= set(page.ids)
    assert page.ids["error"]["role"] == "alert"
    config = json.loads(page.scripts["workbench-config"])
    assert config["view"] == view
    assert config["token_required"] is True
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", list(VIEWS))
def test_the_token_is_never_rendered_into_the_page(client, path):
    assert TOKEN not in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("path", list(VIEWS))
def test_every_src_href_and_api_url_is_same_origin_and_served(client, path):
    page, _ = _page(client, path)
    config = json.loads(page.scripts["workbench-config"])
    for url in [*page.urls, *config["urls"].values()]:
        if url == "data:,":  # the empty favicon: no request at all
            continue
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        if url.startswith("#"):
            continue
        assert url.startswith("/"), url
    for url in page.urls:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    assert page.current == [path]


def test_scripts_import_only_their_neighbours_and_fetch_only_through_the_api_client():
    scripts = sorted(STATIC.glob("*.js"))
    assert {p.name for p in scripts} >= {
        "api.js", "article.js", "quotes.js", "label.js", "chart.js", "table.js", "export.js",
    }  # fmt: skip
    for script in scripts:
        text = script.read_text()
        for target in re.findall(r'from\s+"([^"]+)"', text):
            assert target.startswith("./") and (STATIC / target[2:]).is_file(), (script, target)
        assert ("fetch(" in text) == (script.name == "api.js"), script.name
        # Strings that name another origin: only the SVG namespace, which is not fetched.
        for url in re.findall(r"[a-z]+://[^\s\"'`)]+", text):
            assert url == "http://www.w3.org/2000/svg", (script.name, url)
        assert len(text.splitlines()) < 400, f"{script.name} grew past 400 lines"


@pytest.mark.parametrize("path", list(VIEWS))
def test_every_form_control_has_a_label(client, path):
    page, _ = _page(client, path)
    for control in page.controls:
        if control.get("type") == "hidden":
            continue
        labelled = (
            control.get("id") in page.label_for
            or control["in_label"]
            or control.get("aria-label")
            or control.get("aria-labelledby")
        )
        assert labelled, control


def _luminance(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_meet_wcag_aa_contrast():
    css = (STATIC / "workbench.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    colours["white"] = "#ffffff"
    pairs = [("ink", "paper"), ("ink", "panel"), ("muted", "paper"), ("muted", "panel"),
             ("accent", "paper"), ("error", "error-paper"), ("ink", "mark"),
             ("white", "accent")]  # fmt: skip
    pairs += [("white", label) for label in ("favor", "against", "none")]
    pairs += [("white", label) for label in ("positive", "negative", "neutral")]
    for text, background in pairs:
        ratio = _contrast(colours[text], colours[background])
        assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}:1"
    chart = (STATIC / "chart.js").read_text()
    for name, colour in re.findall(r'(favor|against|none): "(#[0-9a-f]{6})"', chart):
        assert _contrast(colour, "#ffffff") >= 3, f"chart {name} bar: below 3:1 on white"


def test_static_files_come_from_the_package_with_their_types(client):
    assert client.get("/static/web/api.js").mimetype in (
        "text/javascript",
        "application/javascript",
    )
    assert client.get("/static/web/workbench.css").mimetype == "text/css"
    assert client.get("/static/web/missing.js").status_code == 404
