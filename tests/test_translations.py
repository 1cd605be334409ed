"""The Chinese catalogue is complete, compiled, and covers every string in the code."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "shouhu" / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ["django", "djangojs"]


def _catalogue(domain: str) -> polib.POFile | None:
    path = LOCALE / f"{domain}.po"
    return polib.pofile(str(path)) if path.exists() else None


def test_catalogue_has_no_untranslated_or_fuzzy_entries() -> None:
    po = _catalogue("django")
    assert po is not None
    assert len(po) > 100
    missing = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not missing, f"untranslated: {missing[:20]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:20]}"


def test_compiled_catalogue_matches_the_source() -> None:
    po = _catalogue("django")
    assert po is not None
    with open(LOCALE / "django.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    stale = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            got = mo.ngettext(entry.msgid, entry.msgid_plural, 1)
            want = entry.msgstr_plural[0]
        else:
            key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
            got = mo._catalog.get(key, entry.msgid)  # type: ignore[attr-defined]
            want = entry.msgstr
        if got != want:
            stale.append(entry.msgid)
    assert not stale, f"django.mo is stale; run `make messages`: {stale[:10]}"


@pytest.mark.skipif(
    not shutil.which("xgettext") and not os.environ.get("CI"),
    reason="gettext (xgettext) is not installed; CI installs it and runs this test",
)
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path: Path) -> None:
    copy = tmp_path / "shouhu"
    shutil.copytree(
        ROOT / "shouhu",
        copy,
        ignore=shutil.ignore_patterns("static", "data", "__pycache__", "migrations", "locale"),
    )
    (copy / "locale").mkdir()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-location",
            "--ignore=locale/*",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "shouhu.settings", "PYTHONPATH": str(ROOT)},
    )
    extracted = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    po = _catalogue("django")
    assert po is not None
    known = {(e.msgctxt, e.msgid) for e in po if not e.obsolete}
    new = sorted(e.msgid for e in extracted if (e.msgctxt, e.msgid) not in known)
    assert not new, f"strings missing from the catalogue; run `make messages`: {new[:20]}"
