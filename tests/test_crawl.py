"""Every page a persona can reach by following links answers without a server error, and
speaks plain Chinese (or English).

A smoke test over the demo county (600 children, cases, screenings, an alert, a reunion room):
each persona starts at the home page and follows the links on every page it is shown,
breadth first, GET only, once in Chinese and once in English. A 500 anywhere is a bug; a
403/404 on a link shown is a page offering what it then refuses, and is reported too. The
text a person reads must hold no internal code, no English in the Chinese pages (but for
abbreviations and product names) and none of the interface's Chinese in the English pages
(`tests/plain_language.py`, issue 11 §1).
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from shouhu.accounts.models import User
from shouhu.demo.services import DEMO_USERNAMES
from tests import plain_language

pytestmark = pytest.mark.django_db

PERSONAS = [name for name in DEMO_USERNAMES if name != "admin1"]
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


@pytest.mark.parametrize("username", PERSONAS)
def test_every_linked_page_answers_in_plain_words(db: None, username: str) -> None:
    """A demo load in this test's transaction, then the persona's crawl in both languages
    (one test per persona, so that the workers share the crawls)."""
    call_command("demo", "load", children=600)
    problems: list[str] = []
    for language in ("zh-hans", "en"):
        problems += _crawl(username, language)
    assert not problems, "\n".join(problems)


def _crawl(username: str, language: str) -> list[str]:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    user = User.objects.get(username=username)
    client.force_login(user)
    seen: set[str] = set()
    queue = deque(["/"])
    problems: list[str] = []
    said: set[str] = set()

    def report(kind: str, url: str, texts: list[str]) -> None:
        for text in texts:
            if (kind, text) not in said:
                said.add((kind, text))
                problems.append(f"{username} {language} {url}: {kind}: {text[:120]!r}")

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
        if "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        queue.extend(_links(html))
        texts = plain_language.visible_texts(html)
        report("code", url, plain_language.codes_in(texts, chinese=language != "en"))
        if language == "en":
            report("Chinese", url, plain_language.chinese_in_english(texts))
        else:
            report("English", url, plain_language.english_in_chinese(texts, set()))
    # A technology envoy sees no child: their pages are the device tickets and the inbox.
    if len(seen) <= (2 if username.startswith("techenvoy") else 3):
        problems.append(f"{username}: only {sorted(seen)}")
    return problems
