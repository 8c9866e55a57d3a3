"""Secret redaction for everything the agent's tools show the model.

Two rules, applied before any notebook data reaches a model, a trace or the store:

* **By name.** :func:`is_secret_name` says whether an identifier (a variable, a dict key,
  an attribute, a column, the key of a ``key=value`` pair) names a secret: ``api_key``,
  ``OPENAI_API_KEY``, ``githubToken``, ``db_password``, ``aws_secret_access_key``, ... It
  matches whole segments of snake, kebab, dotted and camel case, so ``tokenizer``,
  ``max_tokens`` and ``author`` do not match.
* **By value.** :func:`redact_text` replaces strings in known secret formats wherever
  they appear in a text (OpenAI, Anthropic, AWS, GitHub, Slack, Google, Stripe, Hugging
  Face and SendGrid keys, JWTs, PEM private keys, passwords in URLs, ``Authorization``
  headers, and ``password=...`` style assignments) with a label such as
  ``[REDACTED:openai-key]``. Look-alikes without a secret's prefix or label (UUIDs, hex
  digests, git SHAs, base64 text, dates, long numbers) are left alone.

Every pattern runs in linear time: a token pattern can only start where the previous
character could not belong to the token, and every repetition that could overlap another
is bounded, so a 10 MB adversarial string costs one pass per pattern. Redaction is
idempotent: a redacted text comes back unchanged.

:func:`redact_head` and :func:`redact_tail` redact the visible part of a text that will be
cut, without leaving half a secret at the cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "REDACTED",
    "REDACTED_PREFIX",
    "in_private_key",
    "is_secret_name",
    "redact_head",
    "redact_tail",
    "redact_text",
]

REDACTED = "[REDACTED]"
"""What a value whose name marks it as a secret is shown as."""

REDACTED_PREFIX = "[REDACTED"
"""How every redaction starts: ``[REDACTED]`` and ``[REDACTED:<kind>]``."""

# -- names -------------------------------------------------------------------------------

# Any one of these segments makes a name secret.
_SECRET_WORDS = frozenset(
    {
        "apikey",
        "apikeys",
        "apisecret",
        "accesskey",
        "authkey",
        "authtoken",
        "accesstoken",
        "refreshtoken",
        "bearer",
        "cookie",
        "cookies",
        "credential",
        "credentials",
        "creds",
        "jwt",
        "passphrase",
        "passwd",
        "password",
        "passwords",
        "privatekey",
        "pwd",
        "secret",
        "secrets",
        "secretkey",
        "sessionkey",
        "sessiontoken",
    }
)
# These segment pairs make a name secret: ``api_key``, ``privateKey``, ``client-secret``.
_SECRET_PAIRS = frozenset(
    {
        ("access", "key"),
        ("api", "key"),
        ("api", "keys"),
        ("auth", "key"),
        ("client", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("session", "key"),
        ("signing", "key"),
        ("ssh", "key"),
    }
)
# ``token`` and ``auth`` are secret unless a neighbour says they are something else:
# ``max_tokens``, ``eos_token``, ``token_count``, ``auth_url`` are not secrets.
_SOFT_WORDS = frozenset({"token", "auth"})
_SOFT_BENIGN_BEFORE = frozenset(
    {
        "bos",
        "cls",
        "completion",
        "end",
        "eos",
        "input",
        "mask",
        "max",
        "min",
        "n",
        "new",
        "num",
        "output",
        "pad",
        "prompt",
        "sep",
        "special",
        "start",
        "total",
        "unk",
    }
)
_SOFT_BENIGN_AFTER = frozenset(
    {
        "budget",
        "count",
        "counts",
        "embedding",
        "embeddings",
        "enabled",
        "endpoint",
        "id",
        "idx",
        "ids",
        "index",
        "indices",
        "len",
        "length",
        "lengths",
        "limit",
        "limits",
        "method",
        "mode",
        "num",
        "pattern",  # sklearn's token_pattern: a regex, not a key
        "patterns",
        "regex",
        "separator",
        "provider",
        "required",
        "scheme",
        "size",
        "sizes",
        "type",
        "types",
        "uri",
        "url",
        "usage",
    }
)
# ``tokens`` is secret only when qualified: ``api_tokens``, ``access_tokens``.
_TOKENS_QUALIFIERS = frozenset(
    {"access", "api", "auth", "bearer", "bot", "gh", "github", "hf", "oauth", "refresh", "slack"}
)

# Splits ``OPENAI_API_KEY``, ``apiKey``, ``APIKey``, ``x-api-key``, ``cfg.db.password``.
_SEGMENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_NAME_MAX = 256


def _segments(name: str) -> list[str]:
    return [s.lower() for s in _SEGMENT.findall(name)]


def is_secret_name(name: object) -> bool:
    """Whether an identifier names a secret, judged on its case-insensitive segments.

    Args:
        name: A variable, key, attribute or column name. Only the first 256 characters of
            a string are considered; anything else (an int column label) is not a name.

    Returns:
        ``True`` for names such as ``api_key``, ``OPENAI_API_KEY``, ``githubToken``,
        ``db_password``, ``Authorization`` or ``session_key``; ``False`` for ``tokenizer``,
        ``max_tokens``, ``token_count``, ``author`` or ``keys``.
    """
    if not isinstance(name, str):
        return False
    return _is_secret_name(name[:_NAME_MAX])


@lru_cache(maxsize=4096)
def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    if "authorization" in lowered or "private_key" in lowered:
        return True
    segs = _segments(name)
    for i, seg in enumerate(segs):
        if seg in _SECRET_WORDS:
            return True
        before = segs[i - 1] if i else ""
        after = segs[i + 1] if i + 1 < len(segs) else ""
        if (seg, after) in _SECRET_PAIRS:
            return True
        if (
            seg in _SOFT_WORDS
            and before not in _SOFT_BENIGN_BEFORE
            and after not in _SOFT_BENIGN_AFTER
        ):
            return True
        if seg == "tokens" and before in _TOKENS_QUALIFIERS:
            return True
    return False


# -- values ------------------------------------------------------------------------------

# A token pattern may only start where the previous character cannot be part of it: this
# keeps every pattern linear on long runs of token characters ("eyJ-eyJ-eyJ-...").
_NOT_AFTER_TOKEN = r"(?<![A-Za-z0-9_\-])"  # noqa: S105 - a regex, not a password
_NOT_BEFORE_TOKEN = r"(?![A-Za-z0-9_\-])"  # noqa: S105 - a regex, not a password


def _token(body: str) -> str:
    return _NOT_AFTER_TOKEN + body + _NOT_BEFORE_TOKEN


_Replacer = Callable[["re.Match[str]"], str]


def _whole(label: str) -> _Replacer:
    tag = f"[REDACTED:{label}]"

    def replace(match: re.Match[str]) -> str:
        return tag

    return replace


def _group(label: str, group: str) -> _Replacer:
    """Redact one named group of the match, keeping the rest (a header or key) readable."""
    tag = f"[REDACTED:{label}]"

    def replace(match: re.Match[str]) -> str:
        value = match.group(group)
        if value is None or value.startswith(REDACTED_PREFIX):
            return match.group(0)
        start, end = match.span(group)
        base = match.start(0)
        whole = match.group(0)
        return whole[: start - base] + tag + whole[end - base :]

    return replace


_PLACEHOLDER_VALUES = frozenset(
    {
        "",
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "nan",
        "...",
        "xxx",
        "redacted",
        # Authorization schemes: the credential follows them and has its own rule.
        "basic",
        "bearer",
        "digest",
    }
)


def _is_placeholder(value: str) -> bool:
    stripped = value.strip()
    return (
        stripped.lower() in _PLACEHOLDER_VALUES
        or stripped.startswith(
            (REDACTED_PREFIX, "$", "<", "{", "os.environ", "os.getenv", "getenv")
        )
        or set(stripped) <= {"*", "x", "X", "•", "."}
    )


# ``key =``, ``key:``, ``"key":``, ``key =>``: only the key and separator, so a key that is
# not secret consumes nothing after it ("x=password=hunter2" still finds "password=").
_ASSIGNMENT_KEY = re.compile(
    r"(?i)(?<![A-Za-z0-9_.\-])[\"']?"
    r"(?P<key>[A-Za-z0-9_.\-]{0,100}?"
    r"(?:pass|pwd|secret|token|key|auth|cred|bearer|cookie|jwt)[A-Za-z0-9_.\-]{0,60})"
    r"[\"']?\s{0,3}(?::=|=>|[:=])\s{0,3}"
)
_ASSIGNMENT_VALUE = re.compile(
    r"\"(?P<dq>[^\"\n]{1,512})\"|'(?P<sq>[^'\n]{1,512})'|(?P<bare>[^\s,;&\"'})\]]{1,512})"
)
_ASSIGNMENT_TAG = "[REDACTED:secret-assignment]"


def _redact_assignments(text: str) -> str:
    """Redact the value of every ``key = value`` whose key looks secret."""
    out: list[str] = []
    done = 0  # text[:done] is already in out
    pos = 0
    while True:
        found = _ASSIGNMENT_KEY.search(text, pos)
        if found is None:
            break
        pos = found.end()
        if not is_secret_name(found.group("key")):
            continue
        value = _ASSIGNMENT_VALUE.match(text, pos)
        if value is None:
            continue
        group = next(g for g in ("dq", "sq", "bare") if value.group(g) is not None)
        if _is_placeholder(value.group(group)):
            pos = value.end()
            continue
        start, end = value.span(group)
        out.append(text[done:start])
        out.append(_ASSIGNMENT_TAG)
        done = pos = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


_PEM_BODY_MAX = 65536
_PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM = re.compile(
    _PEM_BEGIN.pattern
    # The body stops at the END line; an unterminated block (a cut preview) is redacted to
    # its end, up to 64 KiB.
    + rf"(?:(?!-----END)[\s\S]){{0,{_PEM_BODY_MAX}}}"
    + r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?"
)
_PEM_STAND_IN = "-----BEGIN PRIVATE KEY-----\n"


def in_private_key(text: str, pos: int) -> bool:
    """Whether ``text[pos:]`` starts inside a PEM private key block that began before.

    The one secret format that spans lines: a window or a line that starts inside its
    body has no header left for :func:`redact_text` to recognise.

    Args:
        text: The whole text.
        pos: Where the window or line starts.
    """
    low = max(0, pos - _PEM_BODY_MAX)
    begin = text.rfind("-----BEGIN", low, pos)
    if begin < 0:
        return False
    header = _PEM_BEGIN.match(text, begin)
    return header is not None and text.find("-----END", header.end(), pos) < 0


@dataclass(frozen=True)
class _Rule:
    """One secret format: literal needles that must occur first, then the pattern."""

    needles: tuple[str, ...]  # any of these must occur (in the lower-cased text if folded)
    pattern: re.Pattern[str]
    replace: _Replacer
    folded: bool = False  # needles are matched against the lower-cased text


# In the order they run. They all run before the generic assignment rule, so a key's own
# label wins. The needles skip a pattern's pass over a text that cannot hold it.
_RULES: tuple[_Rule, ...] = (
    _Rule(("PRIVATE KEY",), _PEM, _whole("private-key")),
    _Rule(
        ("sk-ant-",),
        re.compile(_token(r"sk-ant-[A-Za-z0-9_\-]{20,}")),
        _whole("anthropic-key"),
    ),
    _Rule(
        ("sk-",),
        re.compile(_token(r"sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}")),
        _whole("openai-key"),
    ),
    _Rule(
        ("_live_", "_test_"),
        re.compile(_token(r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}")),
        _whole("stripe-key"),
    ),
    _Rule(
        ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
        re.compile(
            r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])"
        ),
        _whole("aws-access-key-id"),
    ),
    _Rule(
        ("secret",),
        re.compile(
            r"(?i)(?<![A-Za-z0-9])(?P<key>aws_?secret(?:_?access)?_?key|secret_?access_?key)"
            r"[\"']?\s{0,5}[:=]{1,2}>?\s{0,5}[\"']?"
            r"(?P<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
        _group("aws-secret-key", "value"),
        folded=True,
    ),
    _Rule(
        ("ghp_", "gho_", "ghs_", "ghu_", "ghr_"),
        re.compile(_token(r"(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,255}")),
        _whole("github-token"),
    ),
    _Rule(
        ("github_pat_",),
        re.compile(_token(r"github_pat_[A-Za-z0-9_]{22,255}")),
        _whole("github-token"),
    ),
    _Rule(
        ("xox",),
        re.compile(_token(r"xox[abprs]-[A-Za-z0-9\-]{10,}")),
        _whole("slack-token"),
    ),
    _Rule(("xapp-",), re.compile(_token(r"xapp-[A-Za-z0-9\-]{10,}")), _whole("slack-token")),
    _Rule(
        ("hooks.slack.com",),
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}"),
        _whole("slack-webhook"),
    ),
    _Rule(("AIza",), re.compile(_token(r"AIza[0-9A-Za-z_\-]{35}")), _whole("google-api-key")),
    _Rule(("hf_",), re.compile(_token(r"hf_[A-Za-z0-9]{30,}")), _whole("huggingface-token")),
    _Rule(
        ("SG.",),
        re.compile(_token(r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}")),
        _whole("sendgrid-key"),
    ),
    _Rule(
        ("eyJ",),
        # A JWT: base64url header (JSON, so it starts 'eyJ'), payload and signature.
        re.compile(
            _NOT_AFTER_TOKEN + r"eyJ[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*"
        ),
        _whole("jwt"),
    ),
    _Rule(
        ("://",),
        # scheme://user:password@host -> keep the user, hide the password.
        re.compile(
            r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/?#@\"'<>]{0,256}:"
            r"(?P<password>[^\s/?#@\"'<>]{1,256})@"
        ),
        _group("url-password", "password"),
    ),
    _Rule(
        ("authorization",),
        re.compile(
            r"(?i)(?<![A-Za-z0-9_\-])(?:proxy-)?authorization[\"']?\s{0,5}[:=]\s{0,5}[\"']?"
            r"(?:(?:bearer|basic|token|digest|bot)\s{1,5})?(?P<value>[^\s\"',;]{4,})"
        ),
        _group("authorization", "value"),
        folded=True,
    ),
    _Rule(
        ("earer",),
        # "Bearer <token>" on its own; the token must hold a digit, so prose is safe.
        re.compile(
            r"(?<![A-Za-z0-9_\-])[Bb]earer\s{1,5}"
            r"(?P<value>(?=[A-Za-z._~+/\-]{0,64}[0-9])[A-Za-z0-9._~+/\-]{12,}=*)"
        ),
        _group("bearer-token", "value"),
    ),
)


def redact_text(text: str) -> str:
    """Replace every secret-shaped substring of ``text`` with a ``[REDACTED:<kind>]`` label.

    Args:
        text: Any text. Runs in time linear in its length.

    Returns:
        The text with secrets replaced; unchanged if it held none. Applying it again
        changes nothing.
    """
    folded = text.lower() if any(rule.folded for rule in _RULES) else text
    for rule in _RULES:
        haystack = folded if rule.folded else text
        if any(needle in haystack for needle in rule.needles):
            text = rule.pattern.sub(rule.replace, text)
    return _redact_assignments(text)


# How far back from a cut to look for the start of a token that the cut split.
_SPLIT_TOKEN_LOOKBACK = 1024
# Extra text read past the visible part, so redaction can shrink it and still fill it.
_MARGIN = 8192
# Redacted text this close to the window's edge is never shown: it may be what is left of
# a secret that the edge split.
_EDGE_GUARD = 512


def redact_head(text: str, limit: int) -> tuple[str, bool]:
    """Redact the start of ``text`` and cut it to at most ``limit`` characters.

    Only a window a little longer than ``limit`` is scanned, so this is cheap on huge
    texts. A token the window's edge splits is dropped, never shown in part.

    Args:
        text: The full text.
        limit: How many characters may be shown.

    Returns:
        ``(shown, cut)``: the redacted start (at most ``limit`` characters) and whether
        anything was left out.
    """
    limit = max(0, limit)
    window = limit + _MARGIN
    while True:
        if window >= len(text):
            shown = redact_text(text)
            return (shown[:limit], len(shown) > limit)
        shown = redact_text(_drop_split_token_at_end(text[:window]))
        if len(shown) >= limit + _EDGE_GUARD:
            return (shown[:limit], True)
        window *= 4  # redaction shrank the window too much: read more


def redact_tail(text: str, limit: int) -> str:
    """Redact the end of ``text`` and keep at most its last ``limit`` characters.

    Args:
        text: The full text.
        limit: How many characters may be shown.

    Returns:
        The redacted end, at most ``limit`` characters; a token split by the window's
        start is dropped.
    """
    limit = max(0, limit)
    if limit == 0:
        return ""
    window = limit + _MARGIN
    while True:
        if window >= len(text):
            return redact_text(text)[-limit:]
        chunk = _drop_split_token_at_start(text[-window:])
        if in_private_key(text, len(text) - len(chunk)):
            chunk = _PEM_STAND_IN + chunk  # so the key's body is still recognised
        shown = redact_text(chunk)
        if len(shown) >= limit + _EDGE_GUARD:
            return shown[-limit:]
        window *= 4


_BLANK = re.compile(r"\s")


def _drop_split_token_at_end(chunk: str) -> str:
    tail = chunk[-_SPLIT_TOKEN_LOOKBACK:]
    last = None
    for last in _BLANK.finditer(tail):  # noqa: B007 - we want the last blank
        pass
    if last is None:
        return chunk[: len(chunk) - len(tail)]
    return chunk[: len(chunk) - len(tail) + last.start()]


def _drop_split_token_at_start(chunk: str) -> str:
    head = chunk[:_SPLIT_TOKEN_LOOKBACK]
    first = _BLANK.search(head)
    if first is None:
        return chunk[len(head) :]
    return chunk[first.end() :]
