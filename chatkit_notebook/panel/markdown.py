"""Safe HTML from assistant markdown, for the chat panel's ipywidgets ``HTML`` views.

Assistant text is untrusted: a prompt injected through notebook data can make the model
write anything, and an ``HTML`` widget puts its value into the page as it is. So
:func:`render_markdown` parses CommonMark (plus GFM tables and strikethrough) with
markdown-it-py and renders it with an allow-list, not a clean-up pass:

* raw HTML in the text is never parsed as HTML; it shows as text (``html=False``);
* a link keeps its ``href`` only for ``http``, ``https`` and ``mailto`` URLs, and opens in
  a new tab with ``rel="noopener noreferrer nofollow"``; any other link (``javascript:``,
  ``data:``, ``file:``, relative and protocol-relative URLs, however obfuscated) shows
  just its text;
* an image becomes ``<img>`` only for an ``https`` URL on a host in
  ``allowed_image_domains``. Any other image would fire a request the moment it is shown,
  which is how injected markdown exfiltrates data in the URL, so it shows as a text
  placeholder such as ``[image: chart (blocked: evil.example)]``;
* fenced code is highlighted by Pygments when its info string names a known language
  (nothing is guessed from content) and is escaped text otherwise, inside
  ``<pre class="ck-code">``; :data:`CODE_CSS` colours it and :data:`MARKDOWN_CSS` adds
  tables, images and placeholders.

Text that stops halfway (a stream still arriving) renders too: an unclosed fence is a code
block up to the end, half a table or link is plain text. :func:`render_plain` escapes a
user's message and keeps its line breaks.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Collection, Sequence
from contextlib import suppress
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

from .._items import UNTRACED_NOTE
from ..errors import ConfigError

__all__ = [
    "CODE_CSS",
    "MARKDOWN_CSS",
    "UNTRACED_TITLE",
    "code_blocks",
    "render_inline_code",
    "render_markdown",
    "render_plain",
]

logger = logging.getLogger("chatkit_notebook")

# Larger code blocks are shown as plain text: a Pygments lexer is a pile of regular
# expressions run on model output, at about 2.5 ms per 1,000 characters of Python.
MAX_HIGHLIGHT_CHARS = 20_000

_LINK_REL = "noopener noreferrer nofollow"
_SAFE_HREF = re.compile(r"(?i)(?:https?://[^/?#\\\s]|mailto:\S)")
# The host part of an http(s) URL as markdown-it normalised it (hostnames punycoded, any
# other non-ASCII or space percent-encoded): everything up to the first path, query,
# fragment or backslash, as a browser reads it.
_WEB_URL = re.compile(r"(?i)(https?)://([^/?#\\]*)")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
_PORT = re.compile(r":\d*\Z")
_ASCII_SPACE = " \t\n\r\f\v"
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")
_LINK_STACK = "chatkit_notebook.link_stack"
_IMAGE_HOSTS = "chatkit_notebook.image_hosts"
_UNTRACED = "chatkit_notebook.untraced"
UNTRACED_TITLE = UNTRACED_NOTE
"""The untraced-number mark's tooltip."""


def render_markdown(
    text: str,
    *,
    allowed_image_domains: Sequence[str] | None = None,
    untraced: Collection[str] = (),
) -> str:
    """Render assistant markdown as HTML that is safe to put into the page.

    Args:
        text: Markdown written by the model, complete or cut off mid-stream.
        allowed_image_domains: Hosts whose ``https`` images may load, such as
            ``["upload.wikimedia.org"]``. A host also allows its subdomains
            (``example.com`` allows ``img.example.com`` but not ``evil-example.com``).
            ``None`` or empty shows no images at all.
        untraced: Numbers as the text writes them ("1,234", "12.3%") that were not found
            in anything the turn read or computed: each occurrence in prose (not in code)
            is wrapped in our own ``<span class="ck-untraced">`` with a tooltip saying so.

    Returns:
        An HTML fragment with no scripts, event handlers or inline styles from the text,
        no links other than ``http``, ``https`` and ``mailto``, and no images from other
        hosts. If the renderer itself fails, the text is returned escaped, as
        :func:`render_plain` would.

    Raises:
        ConfigError: An entry of ``allowed_image_domains`` is not a bare host name.
    """
    env: EnvType = {
        _LINK_STACK: [],
        _IMAGE_HOSTS: _normalise_domains(tuple(allowed_image_domains or ())),
        _UNTRACED: _untraced_pattern(tuple(sorted(set(untraced), key=len, reverse=True))),
    }
    try:
        rendered: str = _MD.render(text, env)
    except Exception:  # a parser bug must not take the chat panel down
        logger.warning("Could not render markdown; showing it as plain text", exc_info=True)
        return render_plain(text)
    return rendered


def code_blocks(text: str) -> list[str]:
    """The code of each fenced or indented code block in ``text``, in order."""
    return [token.content for token in _MD.parse(text) if token.type in ("fence", "code_block")]


_INLINE_CODE = re.compile(r"`([^`\n]+)`")


def render_inline_code(text: str) -> str:
    """Escape one line of our own text (a step's title), showing its `code` spans as code."""
    return _INLINE_CODE.sub(r"<code>\1</code>", html.escape(text))


def render_plain(text: str) -> str:
    """Escape text for HTML, keeping its line breaks (for the user's own messages).

    Args:
        text: Any text.

    Returns:
        The text with ``&``, ``<``, ``>`` and quotes escaped and each line break as
        ``<br>``. Runs of spaces collapse unless the container sets
        ``white-space: pre-wrap``, which this output is written to work with.
    """
    escaped = html.escape(text.replace("\r\n", "\n").replace("\r", "\n"))
    return escaped.replace("\n", "<br>")


@lru_cache(maxsize=64)
def _untraced_pattern(numbers: tuple[str, ...]) -> re.Pattern[str] | None:
    """The numbers as they appear in escaped text, each standing alone (not inside a longer
    number or a word)."""
    if not numbers:
        return None
    alternatives = "|".join(re.escape(escapeHtml(number)) for number in numbers if number)
    return re.compile(rf"(?<![\w.,])(?:{alternatives})(?![\w]|[.,]\d)")


class _SafeRenderer(RendererHTML):
    """markdown-it's HTML renderer with every URL, image and code block checked."""

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        escaped: str = escapeHtml(tokens[idx].content)
        pattern: re.Pattern[str] | None = env.get(_UNTRACED)
        if pattern is None:
            return escaped
        mark = f'<span class="ck-untraced" title="{UNTRACED_TITLE}">'
        return pattern.sub(lambda found: f"{mark}{found.group(0)}</span>", escaped)

    def link_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        href = str(token.attrGet("href") or "")
        safe = _is_safe_href(href)
        env[_LINK_STACK].append(safe)
        if not safe:
            return ""
        title = token.attrGet("title")
        title_attr = f' title="{escapeHtml(str(title))}"' if title else ""
        return f'<a href="{escapeHtml(href)}"{title_attr} target="_blank" rel="{_LINK_REL}">'

    def link_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        stack: list[bool] = env[_LINK_STACK]
        return "</a>" if stack and stack.pop() else ""

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        alt = self.renderInlineAsText(token.children, options, env)
        blocked = _image_block_reason(src, env[_IMAGE_HOSTS])
        if blocked is not None:
            label = f"image: {alt}" if alt else "image"
            return f'<span class="ck-blocked-image">[{escapeHtml(label)} ({blocked})]</span>'
        title = token.attrGet("title")
        title_attr = f' title="{escapeHtml(str(title))}"' if title else ""
        return (
            f'<img class="ck-image" src="{escapeHtml(src)}" alt="{escapeHtml(alt)}"{title_attr}'
            ' loading="lazy" referrerpolicy="no-referrer">'
        )

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        # The language is the info string's first word, split on ASCII whitespace only,
        # as markdown-it does.
        info = unescapeAll(token.info).strip(_ASCII_SPACE) if token.info else ""
        language = re.split(f"[{_ASCII_SPACE}]", info, maxsplit=1)[0]
        return _code_block_html(token.content, language)

    def code_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return _code_block_html(tokens[idx].content, "")

    def table_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        # The wrapper scrolls a wide table sideways instead of widening the panel.
        return '<div class="ck-table">\n<table>\n'

    def table_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</table>\n</div>\n"


def _is_safe_href(href: str) -> bool:
    """Whether a normalised link URL is ``http(s)://host...`` or ``mailto:...``.

    The check is a prefix allow-list on the exact string that lands in the attribute, so
    obfuscated schemes (``java\\tscript:``, ``&#106;avascript:``, ``JAVASCRIPT:``) fail it
    by construction: markdown-it has already decoded entities and percent-encoded
    whitespace and control characters, which leaves them without a valid scheme.
    """
    return _SAFE_HREF.match(href) is not None


def _image_block_reason(src: str, allowed: tuple[str, ...]) -> str | None:
    """Why an image may not load, or ``None`` when it may.

    Args:
        src: The image URL as markdown-it normalised it.
        allowed: Normalised allowed hosts.

    Returns:
        Escaped text for the placeholder, such as ``blocked: evil.example``.
    """
    match = _WEB_URL.match(src)
    if match is None:
        return "blocked: not a web address"
    scheme, authority = match.group(1).lower(), match.group(2)
    # A browser takes the host after the last "@"; reporting that host keeps the
    # placeholder honest, and any user info at all blocks the image.
    host = _PORT.sub("", authority.rpartition("@")[2]).lower().rstrip(".")
    shown = escapeHtml(host) if _HOST.fullmatch(host) else "unreadable host"
    if scheme != "https":
        return f"blocked: {shown}, not https"
    if "@" in authority or not _HOST.fullmatch(host):
        return f"blocked: {shown}"
    if not any(host == domain or host.endswith("." + domain) for domain in allowed):
        return f"blocked: {shown}"
    return None


@lru_cache(maxsize=64)
def _normalise_domains(domains: tuple[str, ...]) -> tuple[str, ...]:
    """Lower-case, punycode and check the hosts in ``allowed_image_domains``."""
    normalised: list[str] = []
    for domain in domains:
        host = domain.strip().lower().rstrip(".")
        host = host.removeprefix("*.").removeprefix(".")
        with suppress(UnicodeError):  # not encodable: the check below names it
            host = host.encode("idna").decode("ascii")
        if not _HOST.fullmatch(host):
            msg = (
                f"allowed_image_domains entry {domain!r} is not a host name: "
                "give bare hosts such as 'example.com', without scheme, port or path"
            )
            raise ConfigError(msg)
        normalised.append(host)
    return tuple(normalised)


def _code_block_html(code: str, language: str) -> str:
    """A ``<pre class="ck-code">`` block, highlighted if ``language`` names a lexer."""
    body = _highlighted(code, language.lower()) if language else None
    return f'<pre class="ck-code"><code>{body or escapeHtml(code)}</code></pre>\n'


# While a message streams, the panel re-renders all of it on every delta; caching the
# highlighted blocks means only the block still growing is lexed again. Lexing dominates
# the cost (about 2.5 ms per 1,000 characters of Python), and the size cap bounds both it
# and the cache's memory.
@lru_cache(maxsize=32)
def _highlighted(code: str, language: str) -> str | None:
    """Pygments HTML for ``code`` in ``language``, or ``None`` to show it plain."""
    if len(code) > MAX_HIGHLIGHT_CHARS:
        return None
    lexer = _lexer(language)
    if lexer is None:
        return None
    try:
        return highlight(code, lexer, _FORMATTER)
    except Exception:  # foreign regexes on model output; plain text is a fine fallback
        logger.debug("Pygments failed on a %s block", language, exc_info=True)
        return None


@lru_cache(maxsize=256)
def _lexer(language: str) -> Lexer | None:
    """The Pygments lexer registered under ``language``, or ``None``."""
    if not _LANGUAGE.fullmatch(language):
        return None
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


# Token colours follow JupyterLab's editor theme through its CSS variables, so code looks
# like the notebook's own cells in light and dark themes; the fallbacks (for VS Code,
# Colab and other hosts without them) are mid-tones readable on light and dark.
_TOKEN_COLOURS: dict[str, tuple[str, str, str]] = {
    # short class: (JupyterLab variable, fallback colour, extra declarations)
    "k": ("keyword", "#a348b8", "font-weight: bold;"),
    "kc": ("atom", "#2f7fd0", ""),
    "ow": ("keyword", "#a348b8", "font-weight: bold;"),
    "o": ("operator", "#a348b8", ""),
    "c": ("comment", "#8c8c8c", "font-style: italic;"),
    "cp": ("meta", "#c0741c", ""),
    "s": ("string", "#3d9a50", ""),
    "m": ("number", "#2f7fd0", ""),
    "nb": ("builtin", "#c0741c", ""),
    "bp": ("builtin", "#c0741c", ""),
    "nf": ("def", "#2f7fd0", ""),
    "nc": ("def", "#2f7fd0", ""),
    "ne": ("builtin", "#c0741c", ""),
    "nd": ("meta", "#c0741c", ""),
    "nt": ("tag", "#3d9a50", ""),
    "na": ("attribute", "#c0741c", ""),
    "nv": ("variable-2", "#2f7fd0", ""),
    "gh": ("header", "#2f7fd0", "font-weight: bold;"),
    "gu": ("header", "#2f7fd0", "font-weight: bold;"),
    "gd": ("error", "#d04040", ""),
    "gi": ("string", "#3d9a50", ""),
    "err": ("error", "#d04040", ""),
    "p": ("punctuation", "inherit", ""),
}


def _token_rule(short: str) -> str | None:
    """The CSS declarations for one Pygments token class, from its nearest styled parent."""
    types = {name: token for token, name in STANDARD_TYPES.items()}
    token: _TokenType | None = types[short]
    while token is not None:
        name = STANDARD_TYPES.get(token)
        if name in _TOKEN_COLOURS:
            variable, fallback, extra = _TOKEN_COLOURS[name]
            if fallback == "inherit":
                return f"color: inherit; {extra}".strip()
            # The editor's colour pulled a third of the way to the text's: JupyterLab's
            # own token colours (its dark theme's comments, say) fall short of 4.5:1.
            colour = (
                f"color: color-mix(in srgb, var(--jp-mirror-editor-{variable}-color, {fallback})"
                " 65%, var(--jp-content-font-color1, #1a1a1a));"
            )
            return f"{colour} {extra}".strip()
        token = token.parent
    return None


def _code_css() -> str:
    rules = [
        "pre.ck-code { overflow-x: auto; padding: 6px 10px; border-radius: 4px;"
        " line-height: 1.4;"
        " background: var(--jp-cell-editor-background,"
        " var(--vscode-textCodeBlock-background, rgba(127, 127, 127, 0.12))); }",
        "pre.ck-code code { background: none; padding: 0; white-space: pre; }",
    ]
    for short in sorted(set(STANDARD_TYPES.values()) - {""}):
        declarations = _token_rule(short)
        if declarations is not None:
            rules.append(f".ck-code .{short} {{ {declarations} }}")
    return "\n".join(rules) + "\n"


CODE_CSS: str = _code_css()
"""Colours for highlighted code in ``<pre class="ck-code">``; every rule is scoped to it."""

MARKDOWN_CSS: str = (
    CODE_CSS
    + """\
.ck-table { overflow-x: auto; margin: 0.5em 0; }
.ck-table table { border-collapse: collapse; }
.ck-table th, .ck-table td { border: 1px solid rgba(127, 127, 127, 0.35); padding: 2px 8px; }
img.ck-image { max-width: 100%; height: auto; }
.ck-blocked-image { opacity: 0.7; font-style: italic; }
.ck-untraced { text-decoration: underline dotted 1px; text-underline-offset: 3px; cursor: help; }
"""
)
"""Styles for everything :func:`render_markdown` emits; insert it into the page once."""

_FORMATTER = HtmlFormatter(nowrap=True)


class _Markdown(MarkdownIt):
    """markdown-it that leaves every URL to :class:`_SafeRenderer`.

    markdown-it's own check would turn a blocked image back into raw markdown instead of
    a placeholder, and it allows ``data:`` images; the renderer's allow-lists are stricter.
    """

    def validateLink(self, url: str) -> bool:
        return True


_MD = _Markdown(
    "commonmark",
    # linkify stays off: it needs another dependency and its fuzzy matching turns file
    # names on country-code TLDs (train.py, notes.md) into links to strangers' sites.
    {"html": False, "linkify": False, "typographer": False, "xhtmlOut": False},
    renderer_cls=_SafeRenderer,
).enable(["table", "strikethrough"])
