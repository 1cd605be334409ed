"""Production mode refuses to start with development secrets or the demo data."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GOOD = {"SHOUHU_SECRET_KEY": "s" * 50, "SHOUHU_FIELD_KEY": "f" * 50}


def start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHOUHU_")}
    return subprocess.run(
        [sys.executable, "-c", "import shouhu.settings"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_development_defaults_start() -> None:
    assert start().returncode == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHOUHU_FIELD_KEY": "f" * 50}, "SHOUHU_SECRET_KEY"),
        ({"SHOUHU_SECRET_KEY": "s" * 50}, "SHOUHU_FIELD_KEY"),
        ({**GOOD, "SHOUHU_DEMO": "1"}, "SHOUHU_DEMO"),
        ({**GOOD, "SHOUHU_DEBUG": "1"}, "SHOUHU_DEBUG"),
        ({"SHOUHU_SECRET_KEY": "short", "SHOUHU_FIELD_KEY": "f" * 50}, "SHOUHU_SECRET_KEY"),
    ],
)
def test_production_refuses_unsafe_settings(env: dict[str, str], message: str) -> None:
    result = start(SHOUHU_ENV="production", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_with_real_secrets_starts() -> None:
    assert start(SHOUHU_ENV="production", **GOOD).returncode == 0


def test_secrets_can_come_from_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret"
    secret.write_text("x" * 60)
    result = start(
        SHOUHU_ENV="production", SHOUHU_SECRET_KEY_FILE=str(secret), SHOUHU_FIELD_KEY="f" * 50
    )
    assert result.returncode == 0


@pytest.mark.django_db
def test_production_refuses_a_database_with_the_demo_logins(settings) -> None:  # type: ignore[no-untyped-def]
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    from shouhu import wsgi
    from shouhu.accounts.models import User
    from shouhu.demo.services import DEMO_PASSWORD, demo_logins_present

    settings.PRODUCTION = True
    importlib.reload(wsgi)  # a clean database: starts
    official = User.objects.create_user(username="official1", password=DEMO_PASSWORD)
    assert demo_logins_present() == ["official1"]
    with pytest.raises(ImproperlyConfigured, match="official1"):
        importlib.reload(wsgi)
    official.set_password("a-real-password-chosen-later")
    official.save()
    importlib.reload(wsgi)  # the persona's password was changed: no longer the demo login
    settings.PRODUCTION = False
