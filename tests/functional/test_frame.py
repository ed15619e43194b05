"""The shop frame: security headers, error pages, preferences, health checks."""

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kiosk import create_app
from kiosk.config import ConfigError
from kiosk.extensions import db
from tests.conftest import csrf_token, settings_for


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    for url in ("/", "/no-such-page", "/healthz", "/static/css/kiosk.css"):
        with client.get(url) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "http" not in csp  # no third-party origin
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_hsts_is_sent_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://shop.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script_or_style_and_no_third_party_urls(client: FlaskClient) -> None:
    html = client.get("/").text
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    assert "http://" not in html and "https://" not in html
    assert '<script src="/static/js/htmx-2.0.11.min.js?v=' in html


def test_json_clients_get_json_errors(client: FlaskClient) -> None:
    response = client.get("/nowhere", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json == {
        "error": {
            "status": 404,
            "title": "Page not found",
            "message": response.json["error"]["message"],
        }
    }


def test_wrong_method_gets_the_405_page(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert response.status_code in (400, 405)  # CSRF runs first on POST
    response = client.put("/products")
    assert response.status_code == 405
    assert "Method not allowed" in response.text


def test_too_large_requests_get_413(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10
    client = app.test_client()
    response = client.post("/preferences", data={"next": "x" * 100})
    assert response.status_code == 413


def test_server_errors_render_the_500_page_and_roll_back(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        db.session.execute(db.text("SELECT 1"))
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert "Something went wrong" in response.text


def test_language_choice_is_remembered(client: FlaskClient) -> None:
    token = csrf_token(client, "/products")
    response = client.post(
        "/preferences", data={"csrf_token": token, "lang": "de", "next": "/products?q=tee"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/products?q=tee"
    assert 'lang="de"' in client.get("/products").text
    assert "Alle Produkte" in client.get("/products").text


def test_theme_choice_is_remembered(client: FlaskClient) -> None:
    assert 'data-theme="auto"' in client.get("/").text
    client.post(
        "/preferences", data={"csrf_token": csrf_token(client), "theme": "dark", "next": "/"}
    )
    html = client.get("/").text
    assert 'data-theme="dark"' in html
    assert re.search(r'name="theme" value="dark"\s+aria-pressed="true"', html)


def test_preferences_never_redirect_to_another_site(client: FlaskClient) -> None:
    response = client.post(
        "/preferences",
        data={"csrf_token": csrf_token(client), "theme": "dark", "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/"


def test_an_unknown_preference_changes_nothing(client: FlaskClient) -> None:
    client.post(
        "/preferences", data={"csrf_token": csrf_token(client), "theme": "neon", "next": "/"}
    )
    assert 'data-theme="auto"' in client.get("/").text


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client: FlaskClient) -> None:
    response = client.post("/preferences", data={"theme": "dark", "next": "/"})
    assert response.status_code == 400
    assert "Your form had expired" in response.text
    assert "kiosk_theme" not in response.headers.get("Set-Cookie", "")
    assert 'data-theme="auto"' in client.get("/").text


def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["database"] is True and ready.json["migrations_at_head"] is True


def test_readyz_reports_an_unmigrated_database(tmp_path: Path) -> None:
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] is True and response.json["migrations_at_head"] is False


def test_session_cookie_is_httponly_and_lax(client: FlaskClient) -> None:
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_to_start_without_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = settings_for("sqlite://", tmp_path)
    del settings["SECRET_KEY"]
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({**settings, "KIOSK_ENV": "production"})


def test_development_generates_and_keeps_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kiosk.config import load_settings

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("KIOSK_ENV", "development")
    first = load_settings(tmp_path)["SECRET_KEY"]
    assert len(first) >= 40
    assert load_settings(tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
