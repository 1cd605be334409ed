"""Every page a persona can reach by following links answers without a server error.

A smoke test over the demo county (600 children, cases, screenings, an alert, a reunion room):
each persona starts at the home page and follows the links on every page it is shown,
breadth first, GET only. A 500 anywhere is a bug; a 403/404 on a link shown is a page
offering what it then refuses, and is reported too.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from shouhu.accounts.models import User

pytestmark = pytest.mark.django_db

PERSONAS = [
    "director1",
    "supervisor1",
    "official1",
    "socialworker1",
    "counselor1",
    "teacher1",
    "volunteer1",
    "techenvoy1",
    "official2",
]
HREF = re.compile(r'href="([^"#][^"]*)"')
# Not pages: downloads, logging out, the API and its docs, the admin, and reveal/break-glass
# and export actions that a GET only describes.
SKIP = ("/static/", "/accounts/logout", "/api/", "/admin/", "/i18n/", "/children/io/export")
PAGES_PER_PERSONA = 120


def _links(html: str) -> list[str]:
    found = []
    for raw in HREF.findall(html):
        url = urldefrag(raw.replace("&amp;", "&"))[0]
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not url.startswith("/"):
            continue
        if url.startswith(SKIP):
            continue
        found.append(url)
    return found


def test_every_linked_page_answers(db: None) -> None:
    """One demo load (in this test's transaction) for all personas."""
    call_command("demo", "load", children=600)
    problems: list[str] = []
    for username in PERSONAS:
        problems += _crawl(username)
    assert not problems, problems


def _crawl(username: str) -> list[str]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    seen: set[str] = set()
    queue = deque(["/"])
    problems: list[str] = []
    while queue and len(seen) < PAGES_PER_PERSONA:
        url = queue.popleft()
        # One page of each kind is enough: /cases/12/ stands for every case page.
        kind = re.sub(r"\d+", "N", url.split("?")[0])
        if kind in seen:
            continue
        seen.add(kind)
        response = client.get(url)
        if response.status_code >= 500 or response.status_code in (403, 404):
            problems.append(f"{username}: {response.status_code} {url}")
            continue
        if response.status_code in (301, 302):
            target = response.headers.get("Location", "")
            if target.startswith("/") and not target.startswith(SKIP):
                queue.append(target)
            continue
        if "text/html" in response.get("Content-Type", ""):
            queue.extend(_links(response.content.decode()))
    if len(seen) <= 3:
        problems.append(f"{username}: only {sorted(seen)}")
    return problems
