"""The HTTP API through Flask's test client, on the real default bundle and embedding model."""

from __future__ import annotations

import csv
import json
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from service.api.app import create_app, service_state
from service.api.batching import BatcherStopped, MicroBatcher
from service.api.config import ConfigError, ServiceConfig
from training import Bundle, StanceModel
from training.bundle import sha256_file
from training.heads import Heads

ROOT = Path(__file__).resolve().parents[1]
SEED_QUOTES = ROOT / "seeds" / "seed_article_quotes.csv"
SEED_ARTICLE = ROOT / "seeds" / "000_110a16ce1dc0950b.txt"
SMALL = ServiceConfig(max_body_bytes=20_000, max_quotes=5, max_text_chars=400, encoder_threads=1)


def _stop(app) -> None:
    service_state(app).batcher.stop()


@pytest.fixture(scope="module")
def app(default_bundle):
    app = create_app(SMALL, bundle=default_bundle)
    yield app
    _stop(app)


@pytest.fixture
def client(app):
    return app.test_client()


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert set(error) == {"status", "code", "message", "details"}
    assert error["message"]
    return error


def _wait_ready_attempt(client, timeout: float = 60) -> None:
    """Poll /ready until the first model load has succeeded or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/ready")
        if response.status_code == 200 or "failed" in response.get_json()["error"]["message"]:
            return
        time.sleep(0.2)
    raise AssertionError("the model neither loaded nor failed")


# --- scoring -----------------------------------------------------------------------------


def test_one_quote_gets_the_design_score_shape(client, default_bundle):
    response = client.post(
        "/stance", json={"text": "We must make NATO great again", "actor": "Mr Pete Hegseth"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["model"] == {"version": default_bundle.version}
    assert body["mode"] == "text"
    (quote,) = body["quotes"]
    assert quote["actor"] == "Pete Hegseth"
    assert quote["id"] == 0
    assert set(quote["stance"]) == set(default_bundle.model.targets)
    for score in quote["stance"].values():
        assert score["label"] in {"favor", "against", "none"}
        assert set(score["probabilities"]) == {"favor", "against", "none"}
        assert sum(score["probabilities"].values()) == pytest.approx(1, abs=1e-4)
        assert score["label"] == max(score["probabilities"], key=score["probabilities"].get)
    assert quote["sentiment"]["label"] in {"positive", "negative", "neutral"}
    assert sum(quote["sentiment"]["probabilities"].values()) == pytest.approx(1, abs=1e-4)
    assert {a["target"] for a in body["actors"]} == set(default_bundle.model.targets)


def test_scores_match_scoring_the_model_directly(client, default_bundle):
    text = "Europe must spend far more on its own defence, and quickly."
    body = client.post("/stance", json={"text": text}).get_json()
    direct = default_bundle.model.score([text])[0].to_dict()
    for target, score in direct["stance"].items():
        got = body["quotes"][0]["stance"][target]
        assert got["label"] == score["label"]
        for label, p in score["probabilities"].items():
            assert got["probabilities"][label] == pytest.approx(p, abs=1e-3)


def test_targets_subset_limits_the_scores_and_actors(client):
    body = client.post(
        "/stance",
        json={
            "quotes": [{"text": "Russia belongs back in the G8.", "actor": "A"}],
            "targets": ["russia_rapprochement"],
        },
    ).get_json()
    assert list(body["quotes"][0]["stance"]) == ["russia_rapprochement"]
    assert body["targets"] == ["russia_rapprochement"]
    assert [a["target"] for a in body["actors"]] == ["russia_rapprochement"]


def test_actor_aggregate_counts_labels_and_net_stance(client):
    quotes = [
        {"text": "NATO allies must spend 5% of GDP on defence.", "actor": "Ann Example", "id": "a"},
        {"text": "We will not waste money on tanks.", "actor": "ann example", "id": "b"},
        {"text": "The weather was grey in Brussels.", "actor": "Bob Other", "id": "c"},
    ]
    body = client.post("/stance", json={"quotes": quotes, "targets": ["nato_spending"]}).get_json()
    assert [q["id"] for q in body["quotes"]] == ["a", "b", "c"]
    ann = next(a for a in body["actors"] if a["actor"] == "Ann Example")
    scored = [q["stance"]["nato_spending"] for q in body["quotes"][:2]]
    assert ann["quotes"] == 2
    assert sum(ann["counts"].values()) == 2
    for label in ("favor", "against", "none"):
        assert ann["counts"][label] == sum(s["label"] == label for s in scored)
    net = sum(s["probabilities"]["favor"] - s["probabilities"]["against"] for s in scored) / 2
    assert ann["net_stance"] == pytest.approx(net, abs=1e-3)
    assert sum(ann["sentiment"]["counts"].values()) == 2
    assert {a["actor"] for a in body["actors"]} == {"Ann Example", "Bob Other"}


def test_alias_file_aggregates_trump_spellings_under_the_canonical_name(tmp_path, default_bundle):
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,canonical\nTrump,Donald Trump\nThe Donald,Donald Trump\n")
    app = create_app(ServiceConfig(actor_aliases=aliases, encoder_threads=1), bundle=default_bundle)
    try:
        quotes = [
            {"text": "Russia should be back in the G8.", "actor": actor}
            for actor in ("Trump", "Donald Trump", "President Trump", "  DONALD   TRUMP ")
        ]
        body = app.test_client().post("/stance", json={"quotes": quotes}).get_json()
    finally:
        _stop(app)
    assert {q["actor"] for q in body["quotes"]} == {"Donald Trump"}
    assert {(a["actor"], a["quotes"]) for a in body["actors"]} == {("Donald Trump", 4)}


def _seed_article_actors(bundle) -> dict[tuple[str, str], dict]:
    """The API's actor rows for the seed article's gold quotes (speakers as the article gives)."""
    rows = {}
    with open(SEED_QUOTES, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            rows.setdefault(row["id"], row)
    quotes = [
        {"id": r["id"], "text": r["text"], "actor": r["actor"], "date": r["date"]}
        for r in rows.values()
    ]
    app = create_app(ServiceConfig(encoder_threads=1), bundle=bundle)
    try:
        response = app.test_client().post("/stance", json={"quotes": quotes})
    finally:
        _stop(app)
    assert response.status_code == 200
    return {(a["actor"], a["target"]): a for a in response.get_json()["actors"]}


def test_seed_article_quotes_place_the_actors_as_the_article_does(default_bundle):
    actors = _seed_article_actors(default_bundle)
    expected = [
        ("Pete Hegseth", "nato_spending", "favor"),
        ("Donald Trump", "russia_rapprochement", "favor"),
    ]
    got = {(actor, target): actors[(actor, target)]["stance"] for actor, target, _ in expected}
    assert got == {(actor, target): stance for actor, target, stance in expected}
    assert actors[("Pete Hegseth", "nato_spending")]["net_stance"] > 0


@pytest.mark.xfail(
    strict=True,
    reason="known error of the default model: it reads Dovile Sakaliene's warning 'In a few "
    "years, we will be in a situation where Russia...' as favor (docs/training.md)",
)
def test_seed_article_quotes_place_sakaliene_against_rapprochement(default_bundle):
    actors = _seed_article_actors(default_bundle)
    assert actors[("Dovile Sakaliene", "russia_rapprochement")]["stance"] == "against"
    assert actors[("Dovile Sakaliene", "russia_rapprochement")]["net_stance"] < 0


def test_article_mode_on_the_seed_article_gives_each_speaker_their_stance(default_bundle):
    article = SEED_ARTICLE.read_text(encoding="utf-8")
    app = create_app(ServiceConfig(encoder_threads=1), bundle=default_bundle)
    try:
        response = app.test_client().post(
            "/stance", json={"article": {"text": article, "date": "2025-02-13"}}
        )
    finally:
        _stop(app)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["mode"] == "article"
    for quote in body["quotes"]:
        assert article[quote["start"] : quote["end"]] == quote["text"]
        assert {"speaker", "speaker_type", "cue", "direct"} <= set(quote)
    stances = {(a["actor"], a["target"]): a["stance"] for a in body["actors"]}
    types = {a["actor"]: a["actor_type"] for a in body["actors"]}
    assert types["Pete Hegseth"] == "person" and types["Ukraine's president"] == "description"
    assert stances[("Pete Hegseth", "nato_spending")] == "favor"
    # Donald Trump's and Dovile Sakaliene's rapprochement stances: known errors of the model on
    # one of their quotes each, see test_seed_acceptance.py


def test_article_mode_without_extraction_is_a_clear_422(default_bundle):
    app = create_app(ServiceConfig(encoder_threads=1), bundle=default_bundle)
    service_state(app).extract_quotes = None  # a deployment without quote extraction
    try:
        response = app.test_client().post("/stance", json={"article": {"text": "He said “hi”."}})
    finally:
        _stop(app)
    error = _error(response, 422, "article_mode_unavailable")
    assert "article mode not available" in error["message"]


# --- errors ------------------------------------------------------------------------------


def test_malformed_json_is_400(client):
    _error(
        client.post("/stance", data='{"text": ', content_type="application/json"),
        400,
        "malformed_json",
    )


def test_wrong_content_type_is_415(client):
    error = _error(
        client.post("/stance", data="text=hi", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
    assert "application/json" in error["message"]


def test_body_over_the_byte_limit_is_413(client):
    big = json.dumps({"text": "x" * (SMALL.max_body_bytes + 10)})
    error = _error(
        client.post("/stance", data=big, content_type="application/json"), 413, "body_too_large"
    )
    assert error["details"] == {"max_body_bytes": SMALL.max_body_bytes}


def test_schema_violations_name_their_field_paths(client):
    body = {"quotes": [{"text": "ok"}, {"text": "   "}, {"txt": "typo"}, {"text": 3}]}
    error = _error(client.post("/stance", json=body), 422, "invalid_request")
    paths = {(e["path"], e["message"]) for e in error["details"]["errors"]}
    assert ("quotes[1].text", "expected non-blank text") in paths
    assert ("quotes[2].text", "is required") in paths
    assert any(p == "quotes[2].txt" and "unknown field" in m for p, m in paths)
    assert ("quotes[3].text", "expected string, got integer") in paths


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"quotes": [{"text": "a"}] * (SMALL.max_quotes + 1)}, "quotes"),
        ({"text": "x" * (SMALL.max_text_chars + 1)}, "text"),
        ({}, "(body)"),
        ({"text": "a", "quotes": [{"text": "b"}]}, "(body)"),
        ({"quotes": [{"text": "b"}], "actor": "A"}, "actor"),
        ({"text": "a", "targets": []}, "targets"),
        ({"text": "a", "date": "yesterday"}, "date"),
        ([1, 2], "(body)"),
    ],
)
def test_limits_and_shapes_are_422_with_the_offending_path(client, body, path):
    error = _error(client.post("/stance", json=body), 422, "invalid_request")
    assert path in {e["path"] for e in error["details"]["errors"]}


def test_unknown_target_is_422_listing_the_known_ones(client, default_bundle):
    error = _error(
        client.post("/stance", json={"text": "a", "targets": ["mars"]}), 422, "unknown_target"
    )
    assert error["details"] == {"unknown": ["mars"], "known": default_bundle.model.targets}


def test_bearer_token_is_required_when_configured(default_bundle):
    app = create_app(ServiceConfig(api_token="s3cret", encoder_threads=1), bundle=default_bundle)
    client = app.test_client()
    try:
        _error(client.post("/stance", json={"text": "a"}), 401, "unauthorized")
        wrong = {"Authorization": "Bearer nope"}
        _error(client.post("/stance", json={"text": "a"}, headers=wrong), 401, "unauthorized")
        _error(client.get("/model"), 401, "unauthorized")
        good = {"Authorization": "Bearer s3cret"}
        assert client.post("/stance", json={"text": "a"}, headers=good).status_code == 200
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 200
    finally:
        _stop(app)


def test_model_not_ready_is_503_and_ready_says_why(tmp_path):
    app = create_app(ServiceConfig(models_dir=tmp_path, encoder_threads=1))
    client = app.test_client()
    try:
        _wait_ready_attempt(client)
        error = _error(client.get("/ready"), 503, "model_not_ready")
        assert "failed to load" in error["message"]
        _error(client.post("/stance", json={"text": "a"}), 503, "model_not_ready")
        assert client.get("/health").status_code == 200
    finally:
        _stop(app)


def test_unknown_route_is_404_and_wrong_method_is_405(client):
    _error(client.get("/nowhere"), 404, "not_found")
    response = client.get("/stance")
    _error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_internal_failure_is_500_without_a_stack_trace(default_bundle):
    unfitted = Bundle(default_bundle.path, default_bundle.manifest, StanceModel())
    app = create_app(ServiceConfig(encoder_threads=1), bundle=unfitted)
    try:
        response = app.test_client().post("/stance", json={"text": "a"})
    finally:
        _stop(app)
    error = _error(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "AttributeError" not in text and ".py" not in text
    assert error["details"] is None


# --- model, reload, metrics, docs ----------------------------------------------------------


def test_model_endpoint_summarises_the_manifest(client, default_bundle):
    body = client.get("/model").get_json()
    assert body["version"] == default_bundle.version
    assert [t["id"] for t in body["targets"]] == default_bundle.model.targets
    assert body["embedding"]["fingerprint"] == default_bundle.manifest["embedding"]["fingerprint"]
    assert body["encoder"] == default_bundle.model.embedder.encoder.to_dict()
    assert body["position_share"] == default_bundle.manifest["recipe"]["position_share"] == 0.45
    assert "path" not in body


@pytest.fixture
def models_copy(tmp_path) -> Path:
    """The default bundle, a tampered copy, and a verified bundle whose model cannot score."""
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models" / "default", models / "default")
    shutil.copytree(models / "default", models / "tampered")
    with open(models / "tampered" / "heads.npz", "r+b") as stream:
        stream.seek(100)
        stream.write(b"tampered")
    shutil.copytree(models / "default", models / "unfitted")
    heads = Heads.load(models / "unfitted" / "heads.npz")
    broken = {t: replace(h, coef=h.coef[:, :10]) for t, h in heads.stance.items()}
    replace(heads, stance=broken).save(models / "unfitted" / "heads.npz")
    manifest = json.loads((models / "unfitted" / "manifest.json").read_text())
    manifest["heads_sha256"] = sha256_file(models / "unfitted" / "heads.npz")
    (models / "unfitted" / "manifest.json").write_text(json.dumps(manifest))
    return models


def test_reload_of_a_tampered_bundle_keeps_serving_the_old_model(models_copy):
    config = ServiceConfig(models_dir=models_copy, api_token="t", encoder_threads=1)
    app = create_app(config)
    client = app.test_client()
    auth = {"Authorization": "Bearer t"}
    try:
        _wait_ready_attempt(client)
        assert client.get("/ready").status_code == 200
        error = _error(
            client.post("/admin/reload", json={"model": "tampered"}, headers=auth),
            409,
            "reload_failed",
        )
        assert error["details"]["serving"] == "default"
        assert "does not match its manifest" in error["message"]
        error = _error(
            client.post("/admin/reload", json={"model": "unfitted"}, headers=auth),
            409,
            "reload_failed",
        )
        assert "cannot score" in error["message"]
        response = client.post("/stance", json={"text": "a"}, headers=auth)
        assert response.status_code == 200
        assert response.get_json()["model"]["version"] == "default"
        reloaded = client.post("/admin/reload", headers=auth)
        assert reloaded.status_code == 200
        assert reloaded.get_json()["model"]["version"] == "default"
        _error(client.post("/admin/reload"), 401, "unauthorized")
        _error(
            client.post("/admin/reload", json={"model": 3}, headers=auth), 422, "invalid_request"
        )
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'stance_model_loads_total{outcome="failed"} 2.0' in metrics
    finally:
        _stop(app)


def test_admin_reload_is_off_without_a_token(client):
    _error(client.post("/admin/reload"), 403, "admin_disabled")


def test_metrics_count_requests_quotes_batches_and_model_version(default_bundle):
    app = create_app(ServiceConfig(encoder_threads=1), bundle=default_bundle)
    client = app.test_client()
    try:
        client.post("/stance", json={"quotes": [{"text": "a"}, {"text": "b"}, {"text": "a"}]})
        client.get("/nowhere")
        text = client.get("/metrics").get_data(as_text=True)
    finally:
        _stop(app)
    assert 'stance_http_requests_total{method="POST",route="/stance",status="200"} 1.0' in text
    assert 'stance_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert "stance_quotes_scored_total 3.0" in text
    assert "stance_encode_batch_size_sum 2.0" in text  # "a" is encoded once
    assert 'stance_http_request_duration_seconds_count{route="/stance"} 1.0' in text
    assert f'stance_model_info{{version="{default_bundle.version}"}} 1.0' in text


def test_openapi_document_carries_the_configured_limits(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"/stance", "/model", "/health", "/ready", "/metrics", "/admin/reload"} <= set(
        doc["paths"]
    )
    request = doc["components"]["schemas"]["StanceRequest"]
    assert request["properties"]["quotes"]["maxItems"] == SMALL.max_quotes
    assert doc["components"]["schemas"]["Quote"]["properties"]["text"]["maxLength"] == (
        SMALL.max_text_chars
    )


def test_docs_page_works_offline(client):
    response = client.get("/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<form" in page and "/stance" in page and "/openapi.json" in page
    assert "http://" not in page and "https://" not in page


# --- configuration and micro-batching ------------------------------------------------------


def test_config_reads_stance_environment_variables(tmp_path):
    config = ServiceConfig.from_env(
        {
            "STANCE_MAX_QUOTES": "7",
            "STANCE_API_TOKEN": "x",
            "STANCE_MODELS_DIR": str(tmp_path),
            "STANCE_BATCH_MAX_WAIT_MS": "3.5",
            "STANCE_MODEL": "",
        }
    )
    assert (config.max_quotes, config.api_token, config.models_dir) == (7, "x", tmp_path)
    assert config.batch_max_wait_ms == 3.5 and config.model is None
    with pytest.raises(ConfigError, match="STANCE_MAX_QUOTES must be an integer"):
        ServiceConfig.from_env({"STANCE_MAX_QUOTES": "many"})
    with pytest.raises(ConfigError, match="max_quotes"):
        ServiceConfig.from_env({"STANCE_MAX_QUOTES": "0"})


def test_concurrent_requests_share_one_encode_call(default_bundle):
    sizes: list[int] = []
    batcher = MicroBatcher(max_size=64, max_wait_ms=500, on_batch=sizes.append)
    texts = [f"NATO members should spend {n}% of GDP on defence." for n in range(8)]
    results: dict[int, list] = {}
    start = threading.Barrier(len(texts))

    def request(i: int) -> None:
        start.wait()
        results[i] = batcher.score(default_bundle, [texts[i]], timeout=60)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    batcher.stop()
    assert sizes == [8]
    direct = default_bundle.model.score(texts)
    for i, text in enumerate(texts):
        got = results[i][0].stances["nato_spending"]
        assert got.label == direct[i].stances["nato_spending"].label, text


def test_batches_never_exceed_the_maximum_size(default_bundle):
    sizes: list[int] = []
    batcher = MicroBatcher(max_size=3, max_wait_ms=300, on_batch=sizes.append)
    threads = [
        threading.Thread(target=batcher.score, args=(default_bundle, [f"quote {i}"], 60))
        for i in range(7)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    batcher.stop()
    assert sum(sizes) == 7
    assert max(sizes) <= 3


def test_stopped_batcher_refuses_work_instead_of_hanging(default_bundle):
    batcher = MicroBatcher()
    batcher.stop(timeout=5)
    assert not batcher.running
    with pytest.raises(BatcherStopped):
        batcher.score(default_bundle, ["a"], timeout=5)


def test_a_lone_admitted_request_does_not_wait_for_company(default_bundle):
    batcher = MicroBatcher(max_wait_ms=3000)
    try:
        started = time.monotonic()
        with batcher.admitted():
            batcher.score(default_bundle, ["a lone quote"], timeout=60)
        assert time.monotonic() - started < 2.5
    finally:
        batcher.stop()


def test_a_request_queued_behind_a_busy_batch_gets_a_full_window_for_company(default_bundle):
    # The clients answered by one batch must be able to join the next one: its window opens when
    # the batcher gets to it, not when its first request arrived (during the busy batch).
    sizes: list[int] = []
    batcher = MicroBatcher(max_size=512, max_wait_ms=100, on_batch=sizes.append)
    busy = [f"Quote {n} on how much the alliance should spend." for n in range(512)]  # full
    try:
        first = threading.Thread(target=batcher.score, args=(default_bundle, busy, 60))
        first.start()
        time.sleep(0.02)  # the full batch is running (it takes well over 100 ms)
        queued = threading.Thread(target=batcher.score, args=(default_bundle, ["queued"], 60))
        queued.start()
        first.join(60)
        batcher.score(default_bundle, ["answered by the first batch, back again"], timeout=60)
        queued.join(60)
    finally:
        batcher.stop()
    assert sizes == [512, 2]


def test_concurrent_http_requests_are_coalesced(default_bundle):
    app = create_app(ServiceConfig(batch_max_wait_ms=400, encoder_threads=1), bundle=default_bundle)
    start = threading.Barrier(8)
    statuses = []

    def post(i: int) -> None:
        client = app.test_client()
        start.wait()
        statuses.append(client.post("/stance", json={"text": f"Quote number {i}."}).status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        text = app.test_client().get("/metrics").get_data(as_text=True)
    finally:
        _stop(app)
    assert statuses == [200] * 8
    assert "stance_encode_batch_size_sum 8.0" in text
    batches = float(text.split("stance_encode_batch_size_count ")[1].split()[0])
    assert batches <= 2


# --- inputs from the field ---------------------------------------------------------------

INVISIBLE_TEXTS = ["\u200b\u200b", "\ufeff", "\x00", "\x01\x02\x7f", " \u200b\t\u2060 ", "\u3164"]


@pytest.mark.parametrize(
    "text", INVISIBLE_TEXTS, ids=lambda t: "+".join(f"U{ord(c):04X}" for c in t)
)
def test_text_of_only_invisible_characters_is_422_like_an_empty_text(client, text):
    for body, path in (
        ({"text": text}, "text"),
        ({"quotes": [{"text": "NATO must spend more."}, {"text": text}]}, "quotes[1].text"),
        ({"article": {"text": text}}, "article.text"),
    ):
        error = _error(client.post("/stance", json=body), 422, "invalid_request")
        messages = {e["path"]: e["message"] for e in error["details"]["errors"]}
        assert messages[path].startswith("expected non-blank text"), messages


@pytest.mark.parametrize(
    "date", ["2025-13-45", "2025-02-30", "2025-02-13garbage", "2025-02-13T24:00", "20250213"]
)
def test_impossible_dates_are_422_naming_the_field_in_every_mode(client, date):
    quotes = [{"text": "a", "date": "2025-02-13"}, {"text": "b", "date": date}]
    for body, path in (
        ({"text": "NATO must spend more.", "date": date}, "date"),
        ({"quotes": quotes}, "quotes[1].date"),
        ({"article": {"text": 'She said: "We will pay."', "date": date}}, "article.date"),
    ):
        error = _error(client.post("/stance", json=body), 422, "invalid_request")
        assert path in {e["path"] for e in error["details"]["errors"]}, error
        assert date[:10] in error["message"]


def test_iso_dates_with_times_and_offsets_are_accepted_and_give_actor_days(client):
    dates = ["2025-02-13", "2025-02-14T09:30:00Z", "2025-02-15 23:59:59.5+01:00", None]
    quotes = [{"text": "NATO must spend more.", "actor": "A", "date": d} for d in dates]
    response = client.post("/stance", json={"quotes": quotes, "targets": ["nato_spending"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [q["date"] for q in body["quotes"]] == dates  # echoed as sent
    (actor,) = body["actors"]
    assert (actor["first_date"], actor["last_date"]) == ("2025-02-13", "2025-02-15")


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


def test_gzip_body_is_decompressed_and_scored_like_the_plain_one(client):
    body = json.dumps({"text": "NATO allies must spend more on defence.", "id": "g"}).encode()
    plain = client.post("/stance", data=body, content_type="application/json")
    zipped = client.post(
        "/stance",
        data=_gzip(body),
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )
    assert zipped.status_code == 200, zipped.get_json()
    assert zipped.get_json()["quotes"] == plain.get_json()["quotes"]


def test_plain_body_labelled_gzip_is_400_and_not_scored(client):
    body = json.dumps({"text": "NATO allies must spend more on defence."}).encode()
    response = client.post(
        "/stance", data=body, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )
    error = _error(response, 400, "malformed_body")
    assert "not gzip data" in error["message"]


def test_unsupported_content_encoding_is_415_naming_it(client):
    response = client.post(
        "/stance", data=b"{}", content_type="application/json", headers={"Content-Encoding": "br"}
    )
    error = _error(response, 415, "unsupported_media_type")
    assert "'br'" in error["message"] and error["details"]["supported"] == ["gzip", "identity"]


def test_gzip_body_that_decompresses_past_the_limit_is_413(client):
    bomb = _gzip(json.dumps({"text": "x" * (SMALL.max_body_bytes * 3)}).encode())
    assert len(bomb) < SMALL.max_body_bytes
    response = client.post(
        "/stance", data=bomb, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )
    error = _error(response, 413, "body_too_large")
    assert error["details"] == {"max_body_bytes": SMALL.max_body_bytes}
    assert "decompressed" in error["message"]


def test_query_parameters_on_post_are_400_naming_them(client):
    error = _error(
        client.post("/stance?targets=nato_spending&debug", json={"text": "a"}),
        400,
        "query_not_allowed",
    )
    assert error["details"] == {"parameters": ["debug", "targets"]}
    assert "JSON body" in error["message"]
    _error(client.post("/admin/reload?model=x"), 400, "query_not_allowed")
    assert client.get("/health?probe=1").status_code == 200  # GETs ignore cache-busters


def test_integer_ids_follow_json_schema_and_have_a_bound(client):
    body = client.post("/stance", json={"quotes": [{"text": "a", "id": 1.0}]}).get_json()
    assert body["quotes"][0]["id"] == 1 and isinstance(body["quotes"][0]["id"], int)
    for bad in (2**53, -(2**53), 1e300, 1.5):
        error = _error(
            client.post("/stance", json={"quotes": [{"text": "a", "id": bad}]}),
            422,
            "invalid_request",
        )
        assert [e["path"] for e in error["details"]["errors"]] == ["quotes[0].id"]


def test_a_name_repeated_in_a_json_object_is_422_naming_its_path(client):
    raw = '{"quotes": [{"text": "a"}, {"text": "b", "actor": "X", "text": "c"}]}'
    error = _error(
        client.post("/stance", data=raw, content_type="application/json"), 422, "invalid_request"
    )
    assert error["details"]["errors"] == [
        {"path": "quotes[1].text", "message": "appears more than once"}
    ]
    raw = '{"text": "a", "text": "b"}'
    error = _error(
        client.post("/stance", data=raw, content_type="application/json"), 422, "invalid_request"
    )
    assert error["details"]["errors"][0]["path"] == "text"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_400(client, constant):
    raw = '{"quotes": [{"text": "a", "id": ' + constant + "}]}"
    error = _error(
        client.post("/stance", data=raw, content_type="application/json"), 400, "malformed_json"
    )
    assert constant.lstrip("-") in error["message"]
