"""Security headers (issue 10, 6.12): a Content-Security-Policy without inline script on
every response, no inline script in any template, and in production HTTPS redirect and HSTS,
with `manage.py check --deploy` clean."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.world import World

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "shouhu").glob("**/templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.django_db
def test_every_page_has_a_policy_without_inline_script(world: World) -> None:
    client = Client()
    client.force_login(world.director_a)
    for url in ("/accounts/login/", "/children/", f"/children/{world.children['a1'].pk}/"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = _directives(policy)
        assert directives["script-src"] == ["'self'"], url
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["object-src"] == ["'none'"]
    assert "Content-Security-Policy" in Client().get("/api/v1/docs")


def test_no_template_has_inline_script_or_event_handlers() -> None:
    assert len(TEMPLATES) > 20
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)[:60]}"
        for path in TEMPLATES
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER)
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found


def test_pages_load_the_script_that_replaces_inline_handlers(world: World, db: None) -> None:
    client = Client()
    client.force_login(world.director_a)
    page = client.get("/children/").content.decode()
    assert "shouhu/app.js" in page and "data-autosubmit" in page
    assert (ROOT / "shouhu" / "static" / "shouhu" / "app.js").exists()


def _production(*args: str) -> subprocess.CompletedProcess[str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment does not.
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SHOUHU_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "shouhu.settings",
        "SHOUHU_ENV": "production",
        "SHOUHU_SECRET_KEY": secrets.token_urlsafe(50),
        "SHOUHU_FIELD_KEY": secrets.token_urlsafe(40),
        "SHOUHU_ALLOWED_HOSTS": "shouhu.example.org",
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_check_deploy_passes_in_production_mode() -> None:
    result = _production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_redirects_to_https_and_sends_hsts() -> None:
    script = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = _production("shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["True"] * 5
