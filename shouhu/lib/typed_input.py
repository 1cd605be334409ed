"""What a person typed survives any failed save (STYLE.md 15).

When a save fails in a way that does not re-render the form with its data (a server error,
a database lock that outlasted the wait, a page that redirects after a refused save), the
values posted are sealed in the session and put back on the next showing of the page the
form was on: `static/shouhu/restore.js` fills the fields again, and the page lists the
texts typed, so nothing is lost even where a field has gone. Sealed because the session
lives in the database and the text may be a child's account of abuse.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

from shouhu.lib import crypto

SESSION_KEY = "typed_input"
# Never kept: tokens, passwords, and the record version (a stale version must not come back).
SKIP = {"csrfmiddlewaretoken", "version", "what", "next"}
SKIP_PARTS = ("password", "token", "secret")


def _key() -> str:
    key: str = settings.SHOUHU_FIELD_KEY
    return key


def form_page(request: HttpRequest) -> str:
    """The path of the page the form was on: the referring page of this site, else this one."""
    referer = urlsplit(request.headers.get("Referer", ""))
    host = request.get_host()
    if referer.path and (not referer.netloc or referer.netloc == host):
        return referer.path
    return request.path


def keep(request: HttpRequest, *, page: str | None = None) -> bool:
    """Seal the values of this POST for the next showing of `page` (default: the page the
    form was on). Returns whether anything was kept."""
    fields: dict[str, list[str]] = {}
    for name, values in request.POST.lists():
        # A form with a prefix names its fields "goal-version", "goal-description".
        if name.rsplit("-", 1)[-1] in SKIP or any(part in name.lower() for part in SKIP_PARTS):
            continue
        typed = [v for v in values if isinstance(v, str) and v.strip()]
        if typed:
            fields[name] = typed
    if not fields or not hasattr(request, "session"):
        return False
    sealed = crypto.encrypt(json.dumps(fields, ensure_ascii=False), master=_key())
    request.session[SESSION_KEY] = {"page": page or form_page(request), "sealed": sealed}
    return True


def take(request: HttpRequest) -> dict[str, Any] | None:
    """The values kept for this page, once: `{"fields": {name: [values]}, "texts": [...]}`."""
    session = getattr(request, "session", None)
    if session is None or SESSION_KEY not in session:
        return None
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("page") != request.path:
        return None
    del session[SESSION_KEY]
    try:
        fields = json.loads(crypto.decrypt(str(kept.get("sealed", "")), master=_key()))
    except (crypto.DecryptionError, ValueError, TypeError):
        return None
    texts = [(name, value) for name, values in fields.items() for value in values if len(value) > 1]
    return {"fields": fields, "texts": texts}
