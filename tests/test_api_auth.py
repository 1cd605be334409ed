"""API tokens: issue, use, expiry, revocation, lockout, and the OpenAPI schema and docs."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from shouhu.accounts.models import ApiToken
from shouhu.audit.models import AccessLog
from shouhu.lib import clock
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"
LIST_URL = "/api/v1/children"


def get_token(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        TOKEN_URL,
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR="10.0.0.7",
    )


def token_for(client: Client, username: str) -> str:
    response = get_token(client, username)
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_token_is_issued_stored_as_digest_and_logged(world: World, client: Client) -> None:
    response = get_token(client, "director_a")
    assert response.status_code == 200
    body = response.json()
    token = body["token"]
    assert len(token) >= 40
    row = ApiToken.objects.get(user=world.director_a)
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.digest, str(row.pk)}
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert abs(expires - row.expires_at) < dt.timedelta(seconds=1)
    assert dt.timedelta(hours=7) < row.expires_at - clock.now() <= dt.timedelta(hours=8)
    actions = set(AccessLog.objects.filter(user=world.director_a).values_list("action", flat=True))
    assert {"login", "token_issued"} <= actions


def test_token_lifetime_follows_the_setting(world: World, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_TOKEN_HOURS = 1
    token_for(client, "director_a")
    row = ApiToken.objects.get(user=world.director_a)
    assert row.expires_at - clock.now() <= dt.timedelta(hours=1)


def test_each_token_is_different(world: World, client: Client) -> None:
    assert token_for(client, "director_a") != token_for(client, "director_a")


def test_token_authenticates_requests_and_records_use(world: World, client: Client) -> None:
    token = token_for(client, "director_a")
    response = client.get(LIST_URL, **bearer(token))
    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == ["张伟"]
    assert ApiToken.objects.get(user=world.director_a).last_used_at is not None


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "director_a", "password": "wrong-password"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_wrong_credentials_are_401_and_logged_as_failed_login(
    world: World, client: Client, credentials: dict[str, str]
) -> None:
    response = client.post(TOKEN_URL, credentials, content_type="application/json")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "token" not in response.json()
    assert response.json()["detail"]
    assert AccessLog.objects.filter(
        action="login_failed", username=credentials["username"]
    ).exists()
    assert not ApiToken.objects.exists()


def test_inactive_user_gets_no_token(world: World, client: Client) -> None:
    world.director_a.is_active = False
    world.director_a.save()
    assert get_token(client, "director_a").status_code == 401
    assert not ApiToken.objects.exists()


def test_token_of_a_user_deactivated_later_is_refused(world: World, client: Client) -> None:
    token = token_for(client, "director_a")
    world.director_a.is_active = False
    world.director_a.save()
    assert client.get(LIST_URL, **bearer(token)).status_code == 401


def test_lockout_after_five_failures_refuses_even_the_right_password(
    world: World, client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert get_token(client, "director_a", "wrong-password").status_code == 401
    # The last allowed failure locks the account (axes answers it already as locked out).
    assert get_token(client, "director_a", "wrong-password").status_code in {401, 429}
    response = get_token(client, "director_a")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME * 3600
    assert "token" not in response.json()
    assert response.json()["detail"]
    assert not ApiToken.objects.exists()
    assert AccessLog.objects.filter(action="login_failed", username="director_a").count() >= 5
    # Another account from the same address still gets its token.
    assert get_token(client, "director_b").status_code == 200


def test_token_failures_lock_the_web_login_too(world: World, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        get_token(client, "director_a", "wrong-password")
    web = Client(REMOTE_ADDR="10.0.0.7")
    response = web.post(reverse("accounts:login"), {"username": "director_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in web.session


def test_web_login_failures_lock_the_token_endpoint(world: World, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    web = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web.post(reverse("accounts:login"), {"username": "director_a", "password": "wrong"})
    assert get_token(client, "director_a").status_code == 429
    assert not ApiToken.objects.exists()


def test_a_token_resets_the_failure_count(world: World, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        get_token(client, "director_a", "wrong-password")
    assert get_token(client, "director_a").status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert get_token(client, "director_a", "wrong-password").status_code == 401
    assert get_token(client, "director_a").status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        "Token abc",
        "Basic ZGlyZWN0b3JfYTpjb3JyZWN0LWhvcnNlLWJhdHRlcnk=",
        "Bearer " + "x" * 5000,
    ],
)
def test_missing_or_bad_token_is_401_json(world: World, client: Client, header: str | None) -> None:
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    for method, url in [
        ("get", LIST_URL),
        ("get", f"{LIST_URL}/{world.children['a1'].pk}"),
        ("patch", f"{LIST_URL}/{world.children['a1'].pk}"),
        ("post", LIST_URL),
        ("delete", TOKEN_URL),
    ]:
        response = getattr(client, method)(url, content_type="application/json", **extra)
        assert response.status_code == 401, (method, url)
        assert response["Content-Type"].startswith("application/json")
        assert "张伟" not in response.content.decode()


def test_session_login_is_not_an_api_credential(world: World, client: Client) -> None:
    client.force_login(world.director_a)
    assert client.get(LIST_URL).status_code == 401


def test_expired_token_is_401(world: World, client: Client) -> None:
    token = token_for(client, "director_a")
    ApiToken.objects.filter(user=world.director_a).update(
        expires_at=clock.now() - dt.timedelta(seconds=1)
    )
    assert client.get(LIST_URL, **bearer(token)).status_code == 401


@pytest.mark.parametrize("how", ["delete", "post"])
def test_revoked_token_is_401(world: World, client: Client, how: str) -> None:
    token = token_for(client, "director_a")
    other = token_for(client, "director_a")
    if how == "delete":
        response = client.delete(TOKEN_URL, **bearer(token))
    else:
        response = client.post(f"{TOKEN_URL}/revoke", **bearer(token))
    assert response.status_code == 204
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 1
    assert client.get(LIST_URL, **bearer(token)).status_code == 401
    assert client.delete(TOKEN_URL, **bearer(token)).status_code == 401
    # Only the token sent was revoked.
    assert client.get(LIST_URL, **bearer(other)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        '"director_a"',
        '{"username": "director_a"}',
        '{"username": 5, "password": []}',
        '{"username": "director_a", "password": "x", "extra": 1}',
        "",
    ],
)
def test_malformed_token_requests_are_400_json(world: World, client: Client, body: str) -> None:
    response = client.post(TOKEN_URL, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_openapi_schema_is_public_and_lists_every_endpoint(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert {"post", "delete"} <= set(paths["/api/v1/auth/token"])
    assert {"get", "post"} <= set(paths["/api/v1/children"])
    detail = next(p for p in paths if p.startswith("/api/v1/children/{"))
    assert {"get", "patch"} <= set(paths[detail])
    schemes = schema["components"]["securitySchemes"]
    assert any(s == {"type": "http", "scheme": "bearer"} for s in schemes.values())
    assert paths["/api/v1/children"]["get"]["security"]
    assert "security" not in paths["/api/v1/auth/token"]["post"]


def test_docs_are_served_without_a_cdn(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/" in html
    assert "cdn." not in html
    assert "https://" not in html.replace("https://swagger.io", "")


def test_token_request_leaves_no_session_behind(world: World, client: Client) -> None:
    response = get_token(client, "director_a")
    assert response.status_code == 200
    assert django_settings.SESSION_COOKIE_NAME not in response.cookies
    assert not Session.objects.exists()


def test_token_request_keeps_an_existing_web_session(world: World, client: Client) -> None:
    client.force_login(world.director_b)
    key = client.session.session_key
    assert get_token(client, "director_a").status_code == 200
    assert Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("children:list")).status_code == 200
