"""Finds interface text left in English on a page rendered in Chinese.

``english_runs(html, allow)`` reads what a person sees or hears on a page: its text (but not that
of scripts, styles, templates, preformatted or code blocks, citations, text areas, or icon-font ligatures
such as unfold's ``<span class="material-symbols-outlined">search</span>``), and the attributes
shown or read aloud: ``placeholder``, ``title``, ``aria-label``, ``alt`` and the ``value`` of an
input button. It returns every run of ASCII words in it that reads as English: a word of two or
more letters, not written in capitals (SKU, PNG, CSV, XLSX, API, ID, GLOW are codes and units) nor in mixed case
(zL in a password hash),
not joined to digits or other words by ``-``, ``_``, ``.``, ``/``, ``@`` or ``:`` (GLOW-30ML,
glow-retail-first, first_order_amount, Asia/Shanghai, 10:30 are data), not a two-letter string
that is no English word (xg in a password hash), not part of a command line (weishang rewards
release), and not in ``allow`` or ``PROPER``: the data the page shows (names, codes and logins from
the database, see ``allowed_words``) and proper nouns, technical terms and key names written the
same way in Chinese interfaces (WeChat, Webhook, ping, Logo, Control, esc, en).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# cite: a source quoted as it is cited (a law and its articles, a court case), like a book title.
SKIP = {"script", "style", "template", "noscript", "pre", "code", "textarea", "cite"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
ICON_CLASS = re.compile(r"\bmaterial-symbols")
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
BUTTON_TYPES = {"submit", "button", "reset"}

# Proper nouns and names of things written the same way in Chinese interfaces.
PROPER = {
    "english",
    "wechat",
    "alipay",
    "weishang",
    "webhook",
    "webhooks",
    "django",
    "unfold",
    "excel",
    "iphone",
    "android",
    "http",
    "https",
    "www",
    "sms",
    "ok",
    "glow",
    "ninja",
    "openapi",
    "logo",
    "ping",
    # the cases the compliance rules cite (channel health shows the citations in Chinese, the names kept)
    "omnitrition",
    "vemma",
    "herbalife",
    "loterie",
    "nationale",
    # file formats, written in lower case in the export form's choices
    "csv",
    "xlsx",
    "xls",
    "tsv",
    "ods",
    "json",
    "yaml",
    "html",
    "pdf",
    "png",
    "jpg",
    "jpeg",
    # keyboard keys in the console's shortcut list
    "esc",
    "ctrl",
    "cmd",
    "shift",
    "alt",
    "tab",
    "enter",
    "control",
    "command",
    "mac",
    # language codes beside the language names in the console's language menu
    "en",
}

WORD = re.compile(r"^[A-Za-z][A-Za-z'’]*[A-Za-z]$")
# Two-letter words count only when they are English words (xg in a password hash is not).
SHORT_WORDS = {
    "to",
    "of",
    "in",
    "on",
    "at",
    "by",
    "or",
    "an",
    "is",
    "it",
    "be",
    "as",
    "no",
    "do",
    "go",
    "up",
    "if",
    "me",
    "my",
    "we",
    "us",
    "so",
    "am",
    "he",
}
# A command line shown as text (weishang rewards release) is code.
COMMAND = re.compile(r"\bweishang(?: [a-z][a-z_-]*)+")
EDGE = "\"'“”‘’()[]{}<>,.;:!?…·—–-*|«»"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)

    def _skipping(self) -> bool:
        return any(skipped for _tag, skipped in self._stack)

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        skipped = tag in SKIP or bool(ICON_CLASS.search(a.get("class", "")))
        if not self._skipping() and not skipped:
            for name in SHOWN_ATTRIBUTES:
                if a.get(name):
                    self.chunks.append(a[name])
            if tag == "input" and a.get("type", "").lower() in BUTTON_TYPES and a.get("value"):
                self.chunks.append(a["value"])
        if tag not in VOID:
            self._stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._stack and self._stack[-1][0] == tag:
            self._stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.chunks.append(data)


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.chunks


def is_english_word(token: str, allow: set[str]) -> bool:
    word = token.strip(EDGE)
    if not WORD.match(word) or word.isupper():
        return False
    if not (word.islower() or (word[0].isupper() and word[1:].islower())):
        return False  # zL, iPhone, McKinsey: a random string, a brand or a name, not an interface word
    if len(word) == 2 and word.lower() not in SHORT_WORDS:
        return False
    return word.lower().replace("’", "'") not in allow and word.lower() not in PROPER


ASCII_OR_NOT = re.compile(r"[\x21-\x7e’‘“”…]+|[^\x00-\x7f’‘“”…\s]+")


def _tokens(chunk: str) -> list[str]:
    """Whitespace-separated tokens, with ASCII split from other scripts (订单Order → 订单, Order)."""
    return [piece for token in chunk.split() for piece in ASCII_OR_NOT.findall(token)]


def english_runs(html: str, allow: set[str] = frozenset()) -> list[str]:
    """Runs of English interface words on the page, each as it appears (``Select action``)."""
    allow = {w.lower() for w in allow}
    found = []
    for chunk in visible_text(html):
        run: list[str] = []
        for token in [*_tokens(COMMAND.sub(" ", chunk)), ""]:
            if token and is_english_word(token, allow):
                run.append(token.strip(EDGE))
                continue
            if token and token.strip(EDGE) == "" and run:  # "-" or "…" inside a run
                continue
            if run:
                found.append(" ".join(run))
                run = []
    return found


def data_words(values) -> set[str]:
    """The ASCII words in data values (names, codes, logins): shown on pages, not interface text."""
    words = set()
    for value in values:
        for token in str(value).split():
            word = token.strip(EDGE)
            if WORD.match(word):
                words.add(word.lower())
    return words


SYSTEM_TEXT_FIELDS = ("note", "memo", "reason", "detail", "error", "explanation", "message", "acknowledgement")


def allowed_words() -> set[str]:
    """Data the pages show: every short text value our apps keep (names, codes, logins, plan ids),
    but not the notes and memos the system writes, which must be in the brand's language, nor
    Django's own tables (permission names are interface text)."""
    from django.apps import apps
    from django.db import models

    words: set[str] = set()
    for config in apps.get_app_configs():
        if not config.name.startswith("weishang."):
            continue
        for model in config.get_models():
            fields = [
                f.attname
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField)
                and not f.choices
                and not any(part in f.name for part in SYSTEM_TEXT_FIELDS)
            ]
            if fields:
                for row in model._base_manager.values_list(*fields)[:2000]:
                    words |= data_words(v for v in row if v)
    # A user's page shows the start of their password's salt and hash ("salt: up3k**"): random
    # letters, not interface text.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import identify_hasher

    for password in get_user_model()._base_manager.values_list("password", flat=True)[:2000]:
        try:
            shown = identify_hasher(password).safe_summary(password).values()
        except ValueError:
            continue
        words |= {run.lower() for value in shown for run in re.findall(r"[A-Za-z]+", str(value))}
    return words
