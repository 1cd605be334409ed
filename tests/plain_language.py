"""What a person reads on a page, and what of it is the code's language (issue 11 §1).

`visible_texts(html)` returns the text a person sees (text nodes outside script and style,
and the placeholder, title and aria-label attributes, and button values). The checks find:

- internal codes: a word like `goals_met` or `screening_alert`, or a text that is exactly
  one of the project's choice values (`open`, `orange`, `guardian`...), in any language;
- English in the Chinese pages: a word of three or more Latin letters that is not an
  abbreviation in capitals or a name the project uses as such (Jitsi, Excel...); a
  username (`socialworker1`) is English too;
- Chinese in the English pages that is the interface's own text: any run of the
  catalogue's Chinese translations or of the instruments' Chinese labels (data typed in
  Chinese, names and places, is allowed).
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings

HIDDEN = {"script", "style", "noscript", "template", "textarea"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
CJK = re.compile(r"[\u3400-\u9fff]+(?:[\u3400-\u9fff，、：；（）《》“”]*[\u3400-\u9fff])?")
# Latin words a Chinese page may carry: product and format names, and units.
NAMES = {
    "Jitsi",
    "Excel",
    "WeChat",
    "Shouhu",
    "xlsx",
    "csv",
    "pdf",
    "http",
    "https",
    "www",
    "Meet",
    "Android",
    "iOS",
    "Windows",
    "Wi-Fi",
    "WiFi",
    "wifi",
    "km",
    "min",
    "zhangwei",  # the pinyin of the search examples
}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hides what it holds)
        self.texts: list[str] = []

    @property
    def hidden(self) -> bool:
        return any(hides for _tag, hides in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag not in VOID:
            # Not the interface's words: what is hidden, what is marked as data that is not
            # translated (`translate="no"`: an account name) and what is in another
            # language on purpose (`lang`: the language switch offers "English").
            self.stack.append(
                (
                    tag,
                    tag in HIDDEN
                    or "hidden" in values
                    or values.get("translate") == "no"
                    or ("lang" in values and tag != "html"),
                )
            )
        if self.hidden:
            return
        for name in ("placeholder", "title", "aria-label"):
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID or all(open_tag != tag for open_tag, _hides in self.stack):
            return
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.texts.append(data.strip())


def visible_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.texts


@cache
def choice_values() -> frozenset[str]:
    """Every lower-case value of a choice field of the project's models."""
    values: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("shouhu."):
            continue
        for field in model._meta.get_fields():
            for value, _label in getattr(field, "flatchoices", None) or []:
                if isinstance(value, str) and re.fullmatch(r"[a-z][a-z_]{2,}", value):
                    values.add(value)
    return frozenset(values)


@cache
def interface_chinese() -> frozenset[str]:
    """Runs of Chinese (4+ characters) from the catalogue's translations and from the
    instruments' and rules' Chinese labels."""
    runs: set[str] = set()
    po = Path(settings.BASE_DIR) / "shouhu/locale/zh_Hans/LC_MESSAGES/django.po"
    strings = [e.msgstr for e in polib.pofile(str(po)) if e.msgstr]
    for path in (Path(settings.BASE_DIR) / "shouhu").rglob("*.toml"):
        strings += re.findall(r'zh-Hans\s*=\s*"([^"]+)"', path.read_text(encoding="utf-8"))
    for text in strings:
        for part in re.split(r"%\([a-z_]+\)[sd]|%[sd]|\{[^}]*\}|<[^>]+>", text):
            runs.update(run for run in CJK.findall(part) if len(run) >= 4)
    return frozenset(runs)


def codes_in(texts: list[str], *, chinese: bool) -> list[str]:
    """Texts with a snake_case word, and in the Chinese pages a text that is exactly a
    choice value (in the English pages "guardian" may be the word itself)."""
    found = []
    for text in texts:
        if SNAKE.search(text) or (chinese and text.strip() in choice_values()):
            found.append(text)
    return found


def english_in_chinese(texts: list[str], allowed: set[str]) -> list[str]:
    found = []
    for text in texts:
        for word in LATIN_WORD.findall(text):
            if len(word) < 3 or word in NAMES or word in allowed or word.isupper():
                continue
            if re.fullmatch(r"[A-Z0-9-]+[a-z]?", word):  # PHQ-9, CD-RISC, GAD-7
                continue
            found.append(text)
            break
    return found


def chinese_in_english(texts: list[str]) -> list[str]:
    runs = interface_chinese()
    found = []
    for text in texts:
        text = re.sub(r"\(\s*[\u3400-\u9fff]+\s*\)|（[\u3400-\u9fff]+）", "", text)  # 紧急保护
        if not CJK.search(text):
            continue
        if any(run in runs for run in CJK.findall(text)) or any(
            run in text for run in runs if len(run) >= 6
        ):
            found.append(text)
    return found
