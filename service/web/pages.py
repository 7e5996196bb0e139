"""The workbench pages: one route and one template per view, plain data into each template."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, url_for

web = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)

VIEWS = {
    "article": ("/", "Articles"),
    "quotes": ("/quotes", "Quotes"),
    "label": ("/label", "Label"),
}
# The pages load nothing but their own origin's files and talk to nothing but their own API.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def page_config(view: str) -> dict:
    """What the page's scripts need from the server: the view, API URLs, whether a token is due.

    Never the token itself: the page asks the user for it and keeps it in the tab's session.
    """
    return {
        "view": view,
        "token_required": bool(current_app.extensions["stance"].config.api_token),
        "urls": {
            "stance": url_for("api.stance"),
            "actors": url_for("analysis.actors"),
            "quote_file": url_for("analysis.quote_file"),
            "article_file": url_for("analysis.article_file"),
            "suggest": url_for("analysis.suggest"),
            "openapi": url_for("api.openapi"),
        },
    }


def _render(view: str) -> Response:
    html = render_template(f"{view}.html", view=view, views=VIEWS, page_config=page_config(view))
    return Response(html, content_type="text/html; charset=utf-8")


@web.get("/")
def article_view() -> Response:
    """Paste or upload articles: quotations highlighted with speaker and stance, actors, chart."""
    return _render("article")


@web.get("/quotes")
def quotes_view() -> Response:
    """Upload or paste quotes: a sortable, filterable table, per-actor chart and timeline."""
    return _render("quotes")


@web.get("/label")
def label_view() -> Response:
    """Label the quotes the model is least sure of, by keyboard; download a labeled CSV."""
    return _render("label")


@web.after_request
def security_headers(response: Response) -> Response:
    """Same-origin only, enforced by the browser; no sniffing, no referrer."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
