"""The analyst's workbench: web pages at /, /quotes and /label that call the JSON API.

web = Blueprint with templates/ (base.html + one template per view) and static/ (one JS file
per concern, served at /static/web/). The pages compute nothing the API does not: extraction,
scores, actors, net stance, timelines and file reading come from the API; the JavaScript
sorts, filters, formats, draws and writes the downloads.
"""

from service.web.pages import web

__all__ = ["web"]
