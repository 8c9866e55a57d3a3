"""Assistant markdown becomes HTML that is safe to put into the page.

Every rendered output in this file goes through one checker: it parses the HTML with
``html.parser.HTMLParser`` and holds every tag, attribute and attribute value against an
allow-list, and requires tags to balance. The hand-written cases pin the behaviour
(tables, code, raw HTML, bad link schemes, blocked images, streaming prefixes); the
property tests throw arbitrary and markdown-shaped text at the same checker.
"""

from __future__ import annotations

import logging
import re
import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkit_notebook.errors import ConfigError
from chatkit_notebook.panel import markdown as _markdown
from chatkit_notebook.panel.markdown import (
    CODE_CSS,
    MARKDOWN_CSS,
    render_markdown,
    render_plain,
)

_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "s", "code", "pre", "span",
    "a", "img", "ul", "ol", "li", "blockquote", "hr", "br", "table", "thead", "tbody",
    "tr", "th", "td", "div",
}  # fmt: skip
_VOID = {"img", "hr", "br"}
_ATTRS = {
    "a": {"href", "title", "target", "rel"},
    "img": {"class", "src", "alt", "title", "loading", "referrerpolicy"},
    "pre": {"class"},
    "span": {"class"},
    "div": {"class"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
_CLASSES = {
    "pre": re.compile(r"ck-code"),
    "div": re.compile(r"ck-table"),
    "img": re.compile(r"ck-image"),
    # ours, or a Pygments token class such as "k", "nf", "s2", "err"
    "span": re.compile(r"ck-blocked-image|[a-z][a-z0-9]{0,2}"),
}


class _Checker(HTMLParser):
    """Records every way an HTML fragment departs from what the renderer may emit."""

    def __init__(self, image_hosts: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)  # attribute values as the browser sees them
        self.image_hosts = image_hosts
        self.problems: list[str] = []
        self.open: list[str] = []
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in _TAGS:
            self.problems.append(f"tag <{tag}>")
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.problems.append(f"repeated attribute on <{tag}>: {names}")
        for name, value in attrs:
            self._check_attr(tag, name, value or "")
        found = dict(attrs)
        if tag == "a":
            if "href" not in found:
                self.problems.append("<a> without href")
            if found.get("target") != "_blank" or found.get("rel") != _markdown._LINK_REL:
                self.problems.append(f"<a> without target/rel: {attrs}")
        if tag == "img" and (found.get("loading") != "lazy" or "alt" not in found):
            self.problems.append(f"<img> without loading=lazy or alt: {attrs}")
        if tag not in _VOID:
            self.open.append(tag)

    def _check_attr(self, tag: str, name: str, value: str) -> None:
        if name not in _ATTRS.get(tag, set()):
            self.problems.append(f"attribute {name}={value!r} on <{tag}>")
        elif name == "href":
            self.hrefs.append(value)
            if not re.match(r"(?i)(https?://[^/?#\\\s]|mailto:\S)", value):
                self.problems.append(f"href {value!r}")
        elif name == "src":
            self.srcs.append(value)
            host = (urlsplit(value).hostname or "").rstrip(".")
            allowed = any(host == d or host.endswith("." + d) for d in self.image_hosts)
            if not value.lower().startswith("https://") or not allowed:
                self.problems.append(f"src {value!r}")
        elif name == "class" and not _CLASSES[tag].fullmatch(value):
            self.problems.append(f"class {value!r} on <{tag}>")
        elif name == "style" and not re.fullmatch(r"text-align:(left|right|center)", value):
            self.problems.append(f"style {value!r}")
        elif name == "start" and not value.isdigit():
            self.problems.append(f"start {value!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration {data!r}")


def check(html: str, image_hosts: tuple[str, ...] = ()) -> _Checker:
    """Parse rendered HTML and fail on anything outside the allow-list."""
    checker = _Checker(image_hosts)
    checker.feed(html)
    checker.close()
    if checker.open:
        checker.problems.append(f"unclosed {checker.open}")
    if "<script" in html.lower():
        checker.problems.append("<script")
    assert not checker.problems, f"{checker.problems}\n--- in ---\n{html}"
    return checker


def render(text: str, *domains: str) -> tuple[str, _Checker]:
    """Render, check, and return the HTML with its parse."""
    html = render_markdown(text, allowed_image_domains=list(domains) or None)
    return html, check(html, tuple(domains))


def visible_text(checker: _Checker) -> str:
    return "".join(checker.text).rstrip("\n")


# --- markdown features ------------------------------------------------------------------


def test_paragraphs_emphasis_lists_and_headings_render() -> None:
    html, parsed = render("# Title\n\nSome *soft* and **bold** text.\n\n3. three\n4. four\n")
    assert "<h1>Title</h1>" in html
    assert "<em>soft</em>" in html
    assert "<strong>bold</strong>" in html
    assert '<ol start="3">' in html
    assert parsed.tags.count("li") == 2


def test_tables_render_with_alignment_inside_a_scroll_wrapper() -> None:
    html, parsed = render("| a | b | c |\n|:--|:-:|--:|\n| 1 | `x` | **y** |\n")
    assert '<div class="ck-table">' in html
    assert parsed.tags.count("th") == 3
    assert parsed.tags.count("td") == 3
    assert '<td style="text-align:right"><strong>y</strong></td>' in html
    assert "<code>x</code>" in html


def test_strikethrough_renders() -> None:
    html, _ = render("~~gone~~ stays")
    assert "<s>gone</s> stays" in html


def test_fenced_code_with_a_known_language_is_highlighted_and_escaped() -> None:
    html, parsed = render('```python\ndef f(x):\n    return "<b>" & x\n```\n')
    assert html.startswith('<pre class="ck-code"><code>')
    assert '<span class="k">def</span>' in html
    assert '<span class="nf">f</span>' in html
    assert "&lt;b&gt;" in html
    assert "<b>" not in html
    assert 'def f(x):\n    return "<b>" & x' in visible_text(parsed)


@pytest.mark.parametrize("language", ["PYTHON", "py", "json", "bash"])
def test_language_names_and_aliases_pick_a_lexer(language: str) -> None:
    html, _ = render(f"```{language}\nx = 1\n```\n")
    assert "<span" in html


@pytest.mark.parametrize(
    "info",
    ["", "nolanguage", "python{.x}", "<script>", "python\u00a0x", "%%capture", "a" * 41],
)
def test_fenced_code_without_a_known_language_is_plain_escaped_text(info: str) -> None:
    code = 'import os\ndef f():\n    return "<b>"\n'  # Python, but nothing is guessed
    html, parsed = render(f"```{info}\n{code}```\n")
    assert html.startswith('<pre class="ck-code"><code>import os\n')
    assert "<span" not in html
    assert visible_text(parsed) == code.rstrip("\n")


@pytest.mark.parametrize(
    "language", ["html", "javascript", "css", "diff", "console", "pycon", "markdown", "sql"]
)
def test_highlighted_code_in_any_lexer_stays_inside_the_allow_list(language: str) -> None:
    code = (
        '<script>alert("x")</script>\n<img src=x onerror=alert(1)>\n'
        "$ echo 'a' && rm -rf /\n>>> print(\"<b>\")\n+ added\n- removed\n"
        "a { background: url(javascript:alert(1)) }\nSELECT * FROM t; -- \u202e\n"
    )
    html, parsed = render(f"```{language}\n{code}```\n")
    assert "<span" in html
    assert visible_text(parsed) == code.rstrip("\n")


def test_indented_code_is_plain_and_inline_code_is_escaped() -> None:
    html, _ = render("    x = '<i>'\n\ntext `<b>&` text\n")
    assert "<pre class=\"ck-code\"><code>x = '&lt;i&gt;'\n</code></pre>" in html
    assert "<code>&lt;b&gt;&amp;</code>" in html


def test_code_larger_than_the_highlight_cap_is_plain() -> None:
    code = "x = 1\n" * (_markdown.MAX_HIGHLIGHT_CHARS // 6 + 1)
    html, _ = render(f"```python\n{code}```\n")
    assert "<span" not in html
    assert len(html) < len(code) + 100


def test_a_lexer_that_fails_falls_back_to_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> str:
        raise RuntimeError("lexer bug")

    monkeypatch.setattr(_markdown, "highlight", broken)
    html, _ = render("```python\nunique_name_for_the_cache = 1\n```\n")
    assert html == '<pre class="ck-code"><code>unique_name_for_the_cache = 1\n</code></pre>\n'


def test_a_renderer_failure_falls_back_to_escaped_text(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(text: str, env: object = None) -> str:
        raise RecursionError("parser bug")

    monkeypatch.setattr(_markdown._MD, "render", broken)
    with caplog.at_level(logging.WARNING, logger="chatkit_notebook"):
        html = render_markdown("**a** <b>\nline")
    assert html == "**a** &lt;b&gt;<br>line"
    assert "Could not render markdown" in caplog.text


# --- raw HTML ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<iframe src="https://evil.example/"></iframe>',
        '<a href="javascript:alert(1)">x</a>',
        "<div style=\"position:fixed\" onclick='x()'>y</div>",
        "<svg onload=alert(1)>",
        "<!-- comment -->",
        "<style>body{display:none}</style>",
    ],
)
@pytest.mark.parametrize("where", ["block", "inline"])
def test_raw_html_is_shown_as_text(raw: str, where: str) -> None:
    text = raw if where == "block" else f"before {raw} after"
    _, parsed = render(text)
    assert parsed.tags == ["p"]
    assert raw in visible_text(parsed)


def test_entities_stay_text() -> None:
    html, parsed = render("&lt;script&gt; &amp; &#60;b&#62; &copy;")
    assert "<script" not in html
    assert visible_text(parsed) == "<script> & <b> ©"


# --- links ------------------------------------------------------------------------------

_BAD_URLS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "JaVaScRiPt:alert(1)",
    "javascript:alert(1)//https://example.com",
    "java\tscript:alert(1)",
    "java&#09;script:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#0000106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "%6Aavascript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "data:image/png;base64,iVBORw0KGgo=",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "file:///etc/passwd",
    "FILE://c:/windows/win.ini",
    "//evil.example/x",
    "\\\\evil.example\\x",
    "/api/contents",
    "#top",
    "relative/page.html",
    "ftp://files.example.com/x",
    "https:evil.example",
    "https:///evil.example",
]
_LINK_FORMS = {
    "inline": "[click me]({url})",
    "inline-angle": "[click me](<{url}>)",
    "reference": "[click me][ref]\n\n[ref]: <{url}>",
    "reference-bare": "[click me][ref]\n\n[ref]: {url}",
    "autolink": "<{url}>",
}


@pytest.mark.parametrize("url", _BAD_URLS)
@pytest.mark.parametrize("form", sorted(_LINK_FORMS))
def test_links_with_other_schemes_render_as_plain_text(url: str, form: str) -> None:
    _, parsed = render(_LINK_FORMS[form].format(url=url))
    assert "a" not in parsed.tags
    assert parsed.hrefs == []
    if form != "autolink":
        assert "click me" in visible_text(parsed)


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[docs](https://docs.python.org/3/)", "https://docs.python.org/3/"),
        ("[plain](http://example.com/a?b=1&c=2)", "http://example.com/a?b=1&c=2"),
        ("[CAPS](HTTPS://EXAMPLE.COM)", "HTTPS://EXAMPLE.COM"),
        ("[mail](mailto:someone@example.com)", "mailto:someone@example.com"),
        ("<https://example.com/x>", "https://example.com/x"),
        ("<someone@example.com>", "mailto:someone@example.com"),
        ("[ref][r]\n\n[r]: https://example.com/r", "https://example.com/r"),
        ("[spaced](<https://example.com/a b>)", "https://example.com/a%20b"),
    ],
)
def test_web_and_mail_links_open_in_a_new_tab(text: str, href: str) -> None:
    html, parsed = render(text)
    assert parsed.hrefs == [href]
    assert 'target="_blank" rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    "text",
    [
        '[x](<https://example.com/" onmouseover="alert(1)>)',
        "[x](https://example.com/'onmouseover='alert(1))",
        '[x](https://example.com "a\\" onclick=\\"alert(1)")',
        '![x](<https://example.com/" onerror="alert(1)>)',
        '![x](https://example.com/a.png "t\\" onerror=\\"alert(1)")',
        '![x" onerror="alert(1)](https://example.com/a.png)',
    ],
)
def test_quotes_in_urls_titles_and_alt_text_cannot_add_attributes(text: str) -> None:
    render(text, "example.com")  # the checker rejects any attribute outside the allow-list


def test_link_text_keeps_its_markdown_and_a_blocked_link_keeps_its_text() -> None:
    html, parsed = render("[**bold** link](https://example.com) and [*x*](javascript:y)")
    assert "<strong>bold</strong> link</a> and <em>x</em>" in html
    assert parsed.tags.count("a") == 1


# --- images -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "src",
    [
        "https://example.com/chart.png",
        "https://img.example.com/chart.png",
        "https://a.b.example.com/chart.png",
        "https://EXAMPLE.com/chart.png",
        "https://example.com:8443/chart.png",
        "https://example.com./chart.png",
    ],
)
def test_https_images_on_an_allowed_host_or_its_subdomains_load_lazily(src: str) -> None:
    html, parsed = render(f'![sales chart]({src} "Sales")', "example.com")
    assert parsed.srcs == [src]
    assert 'alt="sales chart"' in html
    assert 'title="Sales"' in html
    assert 'loading="lazy"' in html
    assert 'referrerpolicy="no-referrer"' in html


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("https://evil-example.com/x.png?d=SECRET", "blocked: evil-example.com"),
        ("https://example.com.evil.test/x.png?d=SECRET", "blocked: example.com.evil.test"),
        ("https://notexample.com/x.png?d=SECRET", "blocked: notexample.com"),
        ("https://examplexcom/x.png?d=SECRET", "blocked: examplexcom"),
        ("http://example.com/x.png?d=SECRET", "blocked: example.com, not https"),
        ("HTTP://img.example.com/x.png?d=SECRET", "blocked: img.example.com, not https"),
        ("https://example.com@evil.test/x.png?d=SECRET", "blocked: evil.test"),
        ("https://evil.test\\@example.com/x.png?d=SECRET", "blocked: example.com"),
        ("https://ex%61mple.com/x.png?d=SECRET", "blocked: unreadable host"),
        ("//example.com/x.png?d=SECRET", "blocked: not a web address"),
        ("/files/x.png?d=SECRET", "blocked: not a web address"),
        ("data:image/png;base64,SECRET", "blocked: not a web address"),
        ("javascript:alert('SECRET')", "blocked: not a web address"),
        ("file:///home/SECRET.png", "blocked: not a web address"),
    ],
)
def test_other_images_become_a_text_placeholder(src: str, reason: str) -> None:
    html, parsed = render(f"![the chart](<{src}>)", "example.com")
    assert parsed.tags == ["p", "span"]
    assert visible_text(parsed) == f"[image: the chart ({reason})]"
    assert "SECRET" not in html


@pytest.mark.parametrize("domains", [None, [], ()])
def test_without_allowed_domains_no_image_loads(domains: list[str] | None) -> None:
    html = render_markdown("![a](https://example.com/a.png)", allowed_image_domains=domains)
    assert visible_text(check(html)) == "[image: a (blocked: example.com)]"


def test_reference_images_nested_images_and_empty_alt_are_blocked_too() -> None:
    text = (
        "![ref][r] [![inner](https://evil.test/i.png)](https://example.com) ![](https://x.test/)"
        "\n\n[r]: https://evil.test/r.png"
    )
    _, parsed = render(text, "example.com")
    assert "img" not in parsed.tags
    assert parsed.hrefs == ["https://example.com"]
    assert visible_text(parsed) == (
        "[image: ref (blocked: evil.test)] [image: inner (blocked: evil.test)] "
        "[image (blocked: x.test)]"
    )


def test_alt_text_is_plain_and_escaped() -> None:
    html, parsed = render("![*a* <b>](https://example.com/a.png)", "example.com")
    assert 'alt="a &lt;b&gt;"' in html
    html, parsed = render("![*a* <b>](https://evil.test/a.png)", "example.com")
    assert visible_text(parsed) == "[image: a <b> (blocked: evil.test)]"


@pytest.mark.parametrize(
    "domain", ["example.com", "EXAMPLE.COM", " example.com ", ".example.com", "*.example.com"]
)
def test_allowed_domains_are_normalised(domain: str) -> None:
    html = render_markdown("![a](https://img.example.com/a.png)", allowed_image_domains=[domain])
    assert check(html, ("example.com",)).srcs == ["https://img.example.com/a.png"]


def test_an_internationalised_allowed_domain_matches_its_punycode() -> None:
    html = render_markdown("![a](https://bücher.de/a.png)", allowed_image_domains=["BÜCHER.de"])
    assert 'src="https://xn--bcher-kva.de/a.png"' in html


@pytest.mark.parametrize(
    "domain", ["", "https://example.com", "example.com/img", "example.com:443", "a b.com", "*"]
)
def test_an_allowed_domain_that_is_not_a_host_is_a_config_error(domain: str) -> None:
    with pytest.raises(ConfigError, match="not a host name"):
        render_markdown("x", allowed_image_domains=["example.com", domain])


# --- streaming --------------------------------------------------------------------------

_ANSWER = """\
Here is what I found in `df`:

| region | revenue |
|:-------|--------:|
| north  | 1,200.5 |
| south  |   980.0 |

![chart](https://evil.test/c.png?d=secret) and ![ok](https://img.example.com/ok.png)

1. See [the docs](https://pandas.pydata.org/docs/) or <https://example.com>.
2. Avoid [this](javascript:alert(1)) and <script>alert(1)</script>.

```python
totals = df.groupby("region")["revenue"].sum()
print(totals.to_string())  # "<b>" & more
```

> **Note:** ~~old~~ values were dropped.
"""


def test_every_prefix_of_a_streamed_answer_renders_safely() -> None:
    for end in range(len(_ANSWER) + 1):
        render(_ANSWER[:end], "example.com")


@pytest.mark.parametrize(
    "partial",
    [
        "Try this:\n\n```python\nfor i in range(3):\n    print('<b>', i",
        "Try this:\n\n```",
        "Try this:\n\n~~~py",
    ],
)
def test_an_unclosed_fence_mid_stream_is_a_code_block_to_the_end(partial: str) -> None:
    html, parsed = render(partial)
    assert parsed.tags[1:3] == ["pre", "code"]
    assert html.endswith("</code></pre>\n")


def test_half_a_table_or_link_or_image_mid_stream_is_text() -> None:
    _, parsed = render("| a | b |\n|-")
    assert parsed.tags == ["p"]
    _, parsed = render("| a | b |\n|---|---|\n| 1 |")
    assert parsed.tags.count("td") == 2
    _, parsed = render("see [the docs](https://pandas.pyd")
    assert parsed.hrefs == []
    _, parsed = render("![chart](https://example.com/c.png?d=sec", "example.com")
    assert parsed.srcs == []


def test_a_long_answer_renders_quickly() -> None:
    # A hang detector, not a benchmark: a 10,000-character answer takes a few ms.
    text = (_ANSWER * 20)[:10_000]
    start = time.perf_counter()
    render(text, "example.com")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000,
        "![" * 5_000,
        "[a](" * 2_500,
        "*a" * 5_000,
        "_a" * 5_000,
        "<" * 10_000,
        "`" * 10_000,
        "> " * 5_000,
        "|a" * 2_000 + "\n" + "|-" * 2_000 + "\n" + "|b" * 2_000,
        "".join("  " * i + "- x\n" for i in range(200)),
        "```python\n" + "x = 1\n" * 3_000 + "```",
    ],
    ids=lambda text: repr(text[:6]),
)
def test_pathological_input_renders_in_bounded_time(text: str) -> None:
    start = time.perf_counter()
    render(text)
    assert time.perf_counter() - start < 2.0


# --- property tests ---------------------------------------------------------------------

_FRAGMENTS = [
    "[", "]", "(", ")", "<", ">", "!", "`", "```", "~~~", "|", "---", "|:-", "*", "**", "_",
    "~~", "#", "\n", "\n\n", "    ", " ", "\t", "\\", "&", ";", "&#106;", "&#x6A;", "&colon;",
    "&lt;", "javascript:", "JaVaScRiPt:", "java\tscript:", "vbscript:", "data:text/html,",
    "file:///", "//", "https://", "http://", "mailto:", "example.com", "evil-example.com",
    "img.example.com", "@", "%", "script", "<script>", "</script>", "<img src=x onerror=a()>",
    "<iframe>", " onerror=", "onload=", "style=", '"', "'", "=", "1. ", "- ", "> ", "python",
    "\x00", "\u202e", "{", "}", ":", "[x]: ", "![", "](",
]  # fmt: skip
_MARKDOWNISH = st.lists(
    st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=3)), max_size=80
).map("".join)


@given(text=st.one_of(st.text(max_size=300), _MARKDOWNISH))
@settings(max_examples=500, deadline=None, database=None)
def test_any_text_renders_to_allow_listed_balanced_html(text: str) -> None:
    html, _ = render(text, "example.com")
    assert not re.search(r"(?i)<[^>]*\son\w+\s*=", html)
    assert not re.search(r"(?i)href\s*=\s*[\"']?\s*javascript:", html)


@given(text=st.text(max_size=300))
@settings(max_examples=200, deadline=None, database=None)
def test_render_plain_is_escaped_text_with_line_breaks(text: str) -> None:
    html = render_plain(text)
    checker = check(html)
    assert set(checker.tags) <= {"br"}
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert checker.tags.count("br") == len(lines) - 1


def test_render_plain_does_not_interpret_markdown() -> None:
    assert render_plain("**a** <b>\r\nx\ry & 'z'") == (
        "**a** &lt;b&gt;<br>x<br>y &amp; &#x27;z&#x27;"
    )


# --- stylesheet -------------------------------------------------------------------------


def test_stylesheets_are_scoped_to_our_classes_and_fetch_nothing() -> None:
    assert MARKDOWN_CSS.startswith(CODE_CSS)
    assert ".ck-code .k {" in CODE_CSS
    for rule in MARKDOWN_CSS.strip().splitlines():
        selectors = rule.split("{", 1)[0]
        for selector in selectors.split(","):
            assert re.match(r"\s*(pre|img)?\.ck-", selector), rule
    assert "url(" not in MARKDOWN_CSS
    assert "@import" not in MARKDOWN_CSS
