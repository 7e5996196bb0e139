"""The analysis endpoints the web page calls: uploaded files, per-actor aggregation, suggestions."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json

import pandas as pd
import pytest

from service.api.app import create_app, service_state
from service.api.config import ServiceConfig
from service.api.uploads import display_name

SMALL = ServiceConfig(
    max_body_bytes=50_000,
    max_quotes=5,
    max_text_chars=200,
    max_article_chars=1_000,
    max_file_quotes=8,
    encoder_threads=1,
)
# Fictional quotes credited to roles.
ROWS = [
    {"text": "Europe must pay for its own defence, and quickly.", "actor": "A Baltic defence "
     "minister", "date": "2025-01-14"},
    {"text": "Sanctions on Moscow must stay until the last soldier leaves.", "actor": "A Baltic "
     "defence minister", "date": "2025-02-03"},
    {"text": "It is time to invite Russia back to the table.", "actor": "A populist MP",
     "date": "2025-02-20"},
    {"text": "", "actor": "A populist MP", "date": "2025-03-01"},
    {"text": "Spending targets are a distraction from real needs.", "actor": "A union leader",
     "date": "13/03/2025"},
]  # fmt: skip


@pytest.fixture(scope="module")
def app(default_bundle):
    app = create_app(SMALL, bundle=default_bundle)
    yield app
    service_state(app).batcher.stop()


@pytest.fixture
def client(app):
    return app.test_client()


def _upload(client, name: str, data: bytes, path: str = "/files/quotes", **form):
    return client.post(
        path,
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


def _csv(rows=ROWS) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode()


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    return error


# --- POST /files/quotes -------------------------------------------------------------------


def test_uploaded_csv_gives_rows_that_stance_accepts(client):
    body = _upload(client, "quotes.csv", _csv()).get_json()
    assert body["file"]["roles"] == {"text": "text", "actor": "actor", "id": None, "date": "date"}
    assert (body["rows"], body["usable"]) == (5, 3)
    rows = body["quotes"]
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[3]["error"] == "text is empty"
    assert rows[4]["date"] is None and "'13/03/2025' is not an ISO 8601 date" in rows[4]["error"]
    assert body["warnings"] == []
    usable = [{k: r[k] for k in ("id", "text", "actor", "date")} for r in rows if not r["error"]]
    response = client.post("/stance", json={"quotes": usable})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [q["id"] for q in response.get_json()["quotes"]] == [1, 2, 3]


def test_every_format_stance_score_reads_gives_the_same_rows(client, tmp_path):
    frame = pd.DataFrame(ROWS[:3])
    frame.to_parquet(tmp_path / "q.parquet")
    jsonl = "".join(json.dumps(row) + "\n" for row in ROWS[:3]).encode()
    files = {
        "q.csv": _csv(ROWS[:3]),
        "q.tsv": frame.to_csv(index=False, sep="\t").encode(),
        "q.jsonl.gz": gzip.compress(jsonl),
        "q.json": json.dumps(ROWS[:3]).encode(),
        "q.parquet": (tmp_path / "q.parquet").read_bytes(),
    }
    answers = {name: _upload(client, name, data).get_json() for name, data in files.items()}
    expected = answers["q.csv"]["quotes"]
    for name, body in answers.items():
        assert body["quotes"] == expected, name
    assert answers["q.jsonl.gz"]["file"]["compression"] == "gzip"


def test_row_the_stance_schema_would_refuse_carries_its_reason(client):
    rows = [{"text": "x" * (SMALL.max_text_chars + 1), "actor": "An envoy"}]
    (row,) = _upload(client, "long.csv", _csv(rows)).get_json()["quotes"]
    assert row["error"] == f"text: has {SMALL.max_text_chars + 1} characters; the limit is 200"


def test_unknown_format_names_the_uploaded_file_and_the_form_field(client):
    error = _error(_upload(client, "notes.docx", b"PK\x03\x04"), 422, "unreadable_file")
    assert error["message"].startswith("notes.docx: unknown input format '.docx'")
    assert "the format field" in error["message"] and "stance-upload" not in error["message"]


def test_missing_text_column_can_be_named_in_the_form(client):
    data = _csv([{"said": "We will defend every inch.", "who": "A general"}])
    error = _error(_upload(client, "q.csv", data), 422, "unreadable_file")
    assert "the text_column field" in error["message"]
    body = _upload(client, "q.csv", data, text_column="said", actor_column="who").get_json()
    assert body["quotes"][0]["actor"] == "A general"


def test_garbage_in_a_compressed_file_is_unreadable_not_a_crash(client):
    for name in ("q.csv.gz", "q.jsonl.zst", "q.csv.xz", "q.parquet", "q.json.bz2"):
        _error(_upload(client, name, b"\x00garbage\xff" * 20), 422, "unreadable_file")


def test_file_over_the_quote_limit_is_refused_with_the_limit(client):
    rows = [{"text": f"Quote number {i} on defence budgets."} for i in range(9)]
    error = _error(_upload(client, "many.csv", _csv(rows)), 422, "too_many_quotes")
    assert error["details"] == {"limit": SMALL.max_file_quotes}


def test_upload_needs_multipart_and_a_file_part(client):
    _error(client.post("/files/quotes", json={"file": "x"}), 415, "unsupported_media_type")
    response = client.post(
        "/files/quotes", data={"format": "csv"}, content_type="multipart/form-data"
    )
    error = _error(response, 422, "invalid_request")
    assert error["details"]["errors"][0]["path"] == "file"
    error = _error(_upload(client, "q.csv", _csv(), colour="red"), 422, "invalid_request")
    assert error["details"]["errors"][0]["path"] == "colour"


def test_display_name_drops_client_folders():
    from werkzeug.datastructures import FileStorage

    assert display_name(FileStorage(filename="C:\\Users\\me\\quotes.csv")) == "quotes.csv"
    assert display_name(FileStorage(filename="")) == "upload"


# --- POST /files/articles -----------------------------------------------------------------


def test_article_files_txt_and_jsonl(client):
    text = "The minister said: “We stand with our allies.”"
    body = _upload(client, "brief.txt", text.encode(), path="/files/articles").get_json()
    assert body["articles"] == [
        {"id": "brief", "text": text, "date": None, "url": None, "error": None}
    ]
    lines = [
        {"id": "a1", "text": text, "date": "2025-02-13T10:00:00Z"},
        {"id": "a2", "text": "y" * (SMALL.max_article_chars + 1)},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    articles = _upload(client, "news.jsonl", data, path="/files/articles").get_json()["articles"]
    assert [(a["id"], a["date"], a["error"]) for a in articles] == [
        ("a1", "2025-02-13", None),
        ("a2", None, f"text has {SMALL.max_article_chars + 1} characters; the limit is 1000"),
    ]


def test_bad_article_file_names_the_file_and_line(client):
    data = b'{"id": "a1", "text": "fine"}\n{"id": "a2"}\n'
    error = _error(
        _upload(client, "news.jsonl", data, path="/files/articles"), 422, "unreadable_file"
    )
    assert error["message"] == "news.jsonl:2: missing field text"
    error = _error(
        _upload(client, "a.pdf", b"%PDF", path="/files/articles"), 422, "unreadable_file"
    )
    assert ".txt" in error["message"] and ".jsonl" in error["message"]


# --- POST /actors --------------------------------------------------------------------------


def _scored(client, rows) -> list[dict]:
    response = client.post("/stance", json={"quotes": rows})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["quotes"]


def _for_actors(quotes):
    return [{k: q[k] for k in ("actor", "date", "stance", "sentiment")} for q in quotes]


def test_actors_of_scored_quotes_equal_the_stance_answer(client):
    rows = [row for row in ROWS if row["text"]][:3]
    stance = client.post("/stance", json={"quotes": rows}).get_json()
    body = client.post("/actors", json={"quotes": _for_actors(stance["quotes"])}).get_json()
    assert body["actors"] == stance["actors"]
    assert body["timeline"] == [] and body["by"] is None


def test_actors_carried_across_batches_equal_one_aggregation(client):
    rows = [
        {"text": f"{text} ({i})", "actor": actor, "date": f"2025-0{1 + i % 3}-1{i}"}
        for i, (text, actor) in enumerate(
            [
                ("NATO allies must spend far more on defence.", "Donald Trump"),
                ("Russia belongs back in the G8.", "Trump"),
                ("We will never negotiate over our neighbours' heads.", "A foreign minister"),
                ("Two percent is a floor, not a ceiling.", "A foreign minister"),
                ("Sanctions are hurting our farmers; lift them.", "Trump"),
            ]
        )
    ]
    quotes = _for_actors(_scored(client, rows))
    whole = client.post("/actors", json={"quotes": quotes, "by": "month"}).get_json()
    first = client.post("/actors", json={"quotes": quotes[:2], "by": "month"}).get_json()
    carried = {"actors": first["actors"], "timeline": first["timeline"], "by": "month"}
    rest = client.post("/actors", json={"quotes": quotes[2:], **carried}).get_json()
    for key in ("actors", "timeline"):
        assert [_key(s) for s in rest[key]] == [_key(s) for s in whole[key]]
        for got, want in zip(rest[key], whole[key], strict=True):
            assert got["net_stance"] == pytest.approx(want["net_stance"], abs=2e-4)
            assert got["counts"] == want["counts"] and got["quotes"] == want["quotes"]
    assert {s["actor"] for s in whole["actors"]} == {"Donald Trump", "A foreign minister"}
    assert {s["period"] for s in whole["timeline"]} == {"2025-01", "2025-02", "2025-03"}


def _key(summary: dict) -> tuple:
    return summary["actor"], summary["target"], summary["period"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda q: q["stance"]["nato_spending"]["probabilities"].update(favor=1.5),
         "quotes[0].stance.nato_spending.probabilities.favor"),
        (lambda q: q["stance"]["nato_spending"].update(label="maybe"),
         "quotes[0].stance.nato_spending.label"),
        (lambda q: q["stance"].clear(), "quotes[0].stance"),
        (lambda q: q.update(speaker="x"), "quotes[0].speaker"),
    ],
)  # fmt: skip
def test_actors_refuses_scores_outside_the_score_shape(client, change, path):
    (quote,) = _for_actors(_scored(client, [{"text": "Spend more on NATO.", "actor": "An MP"}]))
    change(quote)
    error = _error(client.post("/actors", json={"quotes": [quote]}), 422, "invalid_request")
    assert path in {e["path"] for e in error["details"]["errors"]}


def test_timeline_without_by_is_refused(client):
    (quote,) = _for_actors(_scored(client, [{"text": "Spend more.", "date": "2025-01-01",
                                             "actor": "An MP"}]))  # fmt: skip
    answer = client.post("/actors", json={"quotes": [quote], "by": "month"}).get_json()
    body = {"quotes": [], "timeline": answer["timeline"]}
    error = _error(client.post("/actors", json=body), 422, "invalid_request")
    assert error["details"]["errors"][0]["path"] == "timeline"


def test_analysis_endpoints_need_the_token_when_configured(default_bundle):
    app = create_app(ServiceConfig(api_token="s3cret", encoder_threads=1), bundle=default_bundle)
    client = app.test_client()
    try:
        _error(_upload(client, "q.csv", _csv()), 401, "unauthorized")
        _error(_upload(client, "a.txt", b"x", path="/files/articles"), 401, "unauthorized")
        _error(client.post("/actors", json={"quotes": []}), 401, "unauthorized")
        _error(client.post("/suggest", json={"quotes": [{"text": "a"}]}), 401, "unauthorized")
        good = {"Authorization": "Bearer s3cret"}
        assert client.post("/actors", json={"quotes": []}, headers=good).status_code == 200
    finally:
        service_state(app).batcher.stop()


def test_openapi_publishes_the_limits_and_the_analysis_paths(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["info"]["x-limits"] == {
        "max_body_bytes": SMALL.max_body_bytes,
        "max_quotes": SMALL.max_quotes,
        "max_text_chars": SMALL.max_text_chars,
        "max_article_chars": SMALL.max_article_chars,
        "max_file_quotes": SMALL.max_file_quotes,
    }
    assert {"/files/quotes", "/files/articles", "/actors", "/suggest"} <= set(doc["paths"])


# --- POST /suggest -------------------------------------------------------------------------

HAS_ACTIVE_LEARNING = importlib.util.find_spec("training.active_learning") is not None
CANDIDATES = [
    {"text": "Europe must spend more on defence.", "actor": "A defence minister", "id": "c1"},
    {"text": "Maybe talks with Moscow could help, maybe not.", "actor": "An envoy", "id": "c2"},
    {"text": "The summit was held in a cold hall.", "actor": "A reporter", "id": "c3"},
    {"text": "We should perhaps rethink the budget.", "actor": "A senator", "id": "c4"},
]


@pytest.mark.skipif(
    not HAS_ACTIVE_LEARNING,
    reason="training.active_learning (`stance suggest`, issue 14) is not on this branch yet",
)
def test_suggest_answers_the_selection_of_stance_suggest(client, default_bundle):
    from training.active_learning import suggest

    body = client.post("/suggest", json={"quotes": CANDIDATES, "n": 2}).get_json()
    expected = suggest(default_bundle.model, [c["text"] for c in CANDIDATES], 2)
    assert [s["index"] for s in body["suggestions"]] == [s.index for s in expected]
    for got, want in zip(body["suggestions"], expected, strict=True):
        assert got["quote"]["id"] == CANDIDATES[want.index]["id"]
        assert got["uncertainty"] == pytest.approx(want.uncertainty, abs=1e-4)
        assert got["quote"]["stance"] == want.score.to_dict()["stance"]


@pytest.mark.skipif(HAS_ACTIVE_LEARNING, reason="training.active_learning is installed")
def test_suggest_without_active_learning_is_a_clear_422(client):
    error = _error(client.post("/suggest", json={"quotes": CANDIDATES}), 422,
                   "suggestions_unavailable")  # fmt: skip
    assert "training.active_learning" in error["message"]


def test_suggest_checks_its_request(client):
    error = _error(client.post("/suggest", json={"quotes": CANDIDATES, "n": 0}), 422,
                   "invalid_request")  # fmt: skip
    assert error["details"]["errors"][0]["path"] == "n"
    body = {"quotes": CANDIDATES, "targets": ["mars"]}
    _error(client.post("/suggest", json=body), 422, "unknown_target")
