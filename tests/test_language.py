"""Quotes the English-only model cannot read: detected, returned with their language, not scored.

One rule (`training.check_language`), the same answer in the HTTP API, batch scoring and
`stance predict`. Every quote here is invented and credited to a role.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from service.api.app import create_app, service_state
from service.api.config import ServiceConfig
from service.batch import score_files
from service.batch.scorer import score_texts
from service.cli import main
from training import UNSUPPORTED_LANGUAGE, check_language, check_languages

FOREIGN = [
    ("de", "a German defence minister", "Wir müssen die Verteidigungsausgaben endlich erhöhen."),
    ("de", "a German opposition leader", "Mit Moskau muss man reden, auch wenn es schwerfällt."),
    ("de", "a Bundestag budget spokesperson", "Das ist eine Frage der Glaubwürdigkeit."),
    ("pl", "a Polish deputy prime minister", "Sankcje wobec Moskwy muszą zostać utrzymane."),
    ("pl", "a Polish general", "Musimy wydawać więcej na obronność, bo Rosja nie odpuści."),
    ("pl", "a Polish MP", "To jest kwestia naszego bezpieczeństwa."),
    ("es", "a Spanish finance minister", "El cinco por ciento es una cifra imposible para España."),
    (
        "es",
        "a Spanish trade unionist",
        "No podemos gastar más en defensa mientras cerramos hospitales.",
    ),
    ("es", "a Spanish foreign minister", "Es una cuestión de seguridad europea."),
]
SHORT_OR_AMBIGUOUS = [
    "No.",
    "Absolutely.",
    "Two percent.",
    "Not now.",
    "5%",
    "2025",
    "NATO",
    "NATO NATO NATO",
    "G8",
    "Angela Merkel",
    "Vladimir Putin",
    "Sanctions stay.",
    "Spend more.",
    "Status quo.",
    "Bravo!",
    "Nein.",
    "Danke schön.",
    "Das stimmt nicht.",  # German, but three words: too short to refuse
    "Brussels, Berlin, Warsaw.",
    "Ostpolitik and Wandel durch Handel failed, full stop.",
]
ENGLISH = [
    "We must spend more on defence.",
    "That 5 percent is actually logical.",
    "This is a time when Europe cannot afford to save on security.",
    "The Zeitenwende speech was a turning point for our country.",
    "WE MUST SPEND MORE ON DEFENCE NOW!",
]
GERMAN = FOREIGN[0][2]


@pytest.mark.parametrize(("language", "role", "text"), FOREIGN, ids=[t[2][:24] for t in FOREIGN])
def test_german_polish_and_spanish_quotes_are_detected_and_refused(language, role, text):
    check = check_language(text)
    assert check.language == language
    assert check.probability >= 0.8
    assert not check.supported
    assert check.error.startswith(f"{UNSUPPORTED_LANGUAGE}: detected language '{language}'")
    assert check.to_error()["code"] == UNSUPPORTED_LANGUAGE


@pytest.mark.parametrize("text", SHORT_OR_AMBIGUOUS)
def test_short_texts_names_and_numbers_are_never_refused_as_foreign(text):
    check = check_language(text)
    assert check.supported, check
    assert check.language in (None, "en")
    assert check.error is None and check.to_error() is None


@pytest.mark.parametrize("text", ENGLISH)
def test_english_quotes_are_detected_as_english(text):
    check = check_language(text)
    assert (check.language, check.supported) == ("en", True)


def test_check_languages_is_row_aligned_with_repeats():
    checks = check_languages([GERMAN, "We must spend more on defence.", GERMAN])
    assert [c.language for c in checks] == ["de", "en", "de"]


def test_stance_languages_setting_admits_other_languages(monkeypatch):
    monkeypatch.setenv("STANCE_LANGUAGES", "en, de")
    assert check_language(GERMAN).supported
    assert not check_language(FOREIGN[3][2]).supported  # Polish still refused
    monkeypatch.setenv("STANCE_LANGUAGES", "*")
    assert check_language(FOREIGN[3][2]).supported


def test_batch_gives_foreign_rows_their_language_and_an_error_instead_of_scores(default_bundle):
    english = "NATO allies must finally spend two percent of GDP on defence."
    frame = score_texts(default_bundle.model, [english, GERMAN, "Nein.", ""], ["nato_spending"])
    assert list(frame["language"]) == ["en", "de", None, None]
    assert frame.loc[0, "nato_spending_stance"] in {"favor", "against", "none"}
    assert frame.loc[0, "error"] is None
    assert frame.loc[1, "error"].startswith(f"{UNSUPPORTED_LANGUAGE}: detected language 'de'")
    assert frame.loc[1, ["nato_spending_stance", "sentiment"]].isna().all()
    assert pd.isna(frame.loc[1, "nato_spending_favor"])
    assert frame.loc[2, "nato_spending_stance"] in {"favor", "against", "none"}  # short: scored
    assert frame.loc[3, "error"] == "text is empty"


def test_batch_summary_does_not_count_foreign_quotes(default_bundle, tmp_path):
    quotes = pd.DataFrame(
        {
            "text": ["Europe must spend far more on its own defence.", GERMAN],
            "actor": ["A defence minister", "A German defence minister"],
        }
    )
    quotes.to_csv(tmp_path / "in.csv", index=False)
    score_files(
        [str(tmp_path / "in.csv")],
        tmp_path / "out.csv",
        actors=tmp_path / "actors.csv",
        bundle=default_bundle,
        progress=False,
    )
    scored = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(scored["language"]) == ["en", "de"]
    assert scored.loc[1, "error"].startswith(UNSUPPORTED_LANGUAGE)
    actors = set(pd.read_csv(tmp_path / "actors.csv")["actor"])
    assert actors == {"A defence minister"}


@pytest.fixture(scope="module")
def client(default_bundle):
    app = create_app(ServiceConfig(encoder_threads=1), bundle=default_bundle)
    yield app.test_client()
    service_state(app).batcher.stop()


def test_api_returns_the_language_and_withholds_scores_of_a_foreign_quote(client):
    quotes = [
        {"id": "en", "text": "We must spend far more on defence.", "actor": "A defence minister"},
        {"id": "de", "text": GERMAN, "actor": "A German defence minister"},
        {"id": "short", "text": "Nein.", "actor": "A German defence minister"},
    ]
    response = client.post("/stance", json={"quotes": quotes})
    assert response.status_code == 200
    body = response.get_json()
    english, german, short = body["quotes"]
    assert (english["language"], english["error"]) == ("en", None)
    assert set(english["stance"]) == {"nato_spending", "russia_rapprochement"}
    assert german["language"] == "de"
    assert (german["stance"], german["sentiment"]) == (None, None)
    assert german["error"]["code"] == UNSUPPORTED_LANGUAGE
    assert german["actor"] == "A German defence minister"
    assert short["language"] is None and short["error"] is None and short["stance"]
    counted = {(a["actor"], a["quotes"]) for a in body["actors"]}
    assert counted == {("A defence minister", 1), ("A German defence minister", 1)}


def test_api_answers_a_single_foreign_quote_with_200_and_the_error(client):
    body = client.post("/stance", json={"text": FOREIGN[6][2]}).get_json()
    (quote,) = body["quotes"]
    assert (quote["language"], quote["stance"], quote["error"]["code"]) == (
        "es",
        None,
        UNSUPPORTED_LANGUAGE,
    )
    assert body["actors"] == []


def test_predict_shows_the_language_and_no_scores_for_a_foreign_quote():
    runner = CliRunner()
    result = runner.invoke(main, ["predict", FOREIGN[3][2], "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["language"], body["stance"], body["sentiment"]) == ("pl", None, None)
    assert body["error"]["code"] == UNSUPPORTED_LANGUAGE
    table = runner.invoke(main, ["predict", FOREIGN[3][2]])
    assert table.exit_code == 0
    assert "language: pl" in table.output and "not scored: unsupported_language" in table.output
    english = json.loads(runner.invoke(main, ["predict", ENGLISH[0], "--json"]).output)
    assert (english["language"], english["error"]) == ("en", None)
    assert english["stance"]["nato_spending"]["label"] in {"favor", "against", "none"}


def test_api_batch_and_predict_agree_on_language_and_error(client, default_bundle):
    texts = [GERMAN, FOREIGN[4][2], FOREIGN[7][2], ENGLISH[2], "Angela Merkel"]
    api = client.post("/stance", json={"quotes": [{"text": t} for t in texts]}).get_json()
    batch = score_texts(default_bundle.model, texts, list(default_bundle.model.targets))
    for i, text in enumerate(texts):
        predicted = json.loads(CliRunner().invoke(main, ["predict", text, "--json"]).output)
        code = predicted["error"]["code"] if predicted["error"] else None
        from_api = api["quotes"][i]
        assert from_api["language"] == predicted["language"] == batch.loc[i, "language"]
        assert (from_api["error"] or {}).get("code") == code
        batch_error = batch.loc[i, "error"]
        assert (batch_error.split(":")[0] if batch_error else None) == code
