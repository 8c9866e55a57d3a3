"""Secret redaction, by name and by value, through the real tools and on its own.

The corpus test places 50+ synthetic secrets (seeded, in each provider's real format) six
ways in a live namespace and reads them back through the real tools, over a real
``NotebookStore``: no part of any secret may appear in a tool result or in the store file
on disk. Benign look-alikes measure the false-positive rate. Property tests check that
redaction is idempotent, leaves secret-free text alone and never lets a secret through.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import string
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from agents import RunContextWrapper
from chatkit.agents import AgentContext
from chatkit.types import ThreadMetadata
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chatkit_notebook import NotebookContext
from chatkit_notebook.agent import tools as T
from chatkit_notebook.previews.redact import (
    REDACTED,
    is_secret_name,
    redact_head,
    redact_tail,
    redact_text,
)
from chatkit_notebook.stores.file import NotebookStore

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
WINDOW = 10  # no run of this many characters of a secret may be shown


@dataclass(frozen=True)
class Secret:
    kind: str
    text: str  # as it would appear in data (may carry a label, e.g. "password=...")
    core: str  # the secret part that must never be shown


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_secrets(seed: int = 20240601) -> list[Secret]:
    """Five of each of twelve formats: 60 secrets, reproducible."""
    rng = random.Random(seed)
    secrets: list[Secret] = []
    for _ in range(5):
        openai_key = "sk-proj-" + _rand(rng, URLSAFE, 60) + "T3BlbkFJ" + _rand(rng, URLSAFE, 40)
        legacy = "sk-" + _rand(rng, ALNUM, 48)
        anthropic = "sk-ant-api03-" + _rand(rng, URLSAFE, 93) + "AA"
        aws_id = rng.choice(["AKIA", "ASIA"]) + _rand(rng, string.ascii_uppercase + "234567", 16)
        aws_secret = _rand(rng, ALNUM + "/+", 40)
        github = rng.choice(["ghp_", "gho_", "ghs_", "ghu_"]) + _rand(rng, ALNUM, 36)
        github_pat = "github_pat_" + _rand(rng, ALNUM + "_", 82)
        slack = f"xox{rng.choice('abps')}-{rng.randrange(10**11, 10**12)}-" + _rand(rng, ALNUM, 24)
        google = "AIza" + _rand(rng, URLSAFE, 35)
        stripe = rng.choice(["sk_live_", "rk_live_"]) + _rand(rng, ALNUM, 24)
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps({"sub": rng.randrange(10**6), "role": "admin"}).encode())
        jwt = f"{header}.{payload}.{_b64url(rng.randbytes(32))}"
        body = base64.b64encode(rng.randbytes(600)).decode()
        pem_body = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        pem = f"-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----"
        password = _rand(rng, ALNUM, 16)
        bearer = _rand(rng, URLSAFE, 40)
        assigned = _rand(rng, ALNUM + "!#%", 18)
        secrets += [
            Secret("openai", openai_key, openai_key),
            Secret("openai-legacy", legacy, legacy),
            Secret("anthropic", anthropic, anthropic),
            Secret("aws-id", aws_id, aws_id),
            Secret("aws-secret", f"aws_secret_access_key = {aws_secret}", aws_secret),
            Secret("github", github, github),
            Secret("github-pat", github_pat, github_pat),
            Secret("slack", slack, slack),
            Secret("google", google, google),
            Secret("stripe", stripe, stripe),
            Secret("jwt", jwt, jwt),
            Secret("pem", pem, pem_body.replace("\n", "")[:400]),
            Secret("url", f"postgres://analyst:{password}@db.internal:5432/sales", password),
            Secret("bearer", f"Authorization: Bearer {bearer}", bearer),
            Secret("assignment", f'{{"client_secret": "{assigned}"}}', assigned),
        ]
    return secrets


SECRETS = make_secrets()


def windows(core: str) -> set[str]:
    """Every run of WINDOW characters of a secret (the secret itself if shorter)."""
    if len(core) <= WINDOW:
        return {core}
    return {core[i : i + WINDOW] for i in range(len(core) - WINDOW + 1)}


def leaks(secret: Secret, text: str) -> bool:
    flat = text.replace("\\n", "").replace("\n", "")
    return any(w in flat for w in windows(secret.core.replace("\n", "")))


# -- the tools over a real store ---------------------------------------------------------------


class Holder:
    """A user object with the secret in an ordinary attribute."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.count = 3


async def tool_context(tmp_path: Path, namespace: dict[str, Any]) -> tuple[Any, NotebookStore]:
    store = NotebookStore(tmp_path / "redaction.chatkit.json")
    nb = NotebookContext(namespace=namespace)
    thread = ThreadMetadata(id="thr_redact", created_at=datetime.now())
    await store.save_thread(thread, nb)
    chat = AgentContext(thread=thread, store=store, request_context=nb)
    return RunContextWrapper(chat), store


def placements(i: int, secret: Secret) -> dict[str, Any]:
    """The six ways a secret sits in a namespace; no variable name looks secret."""
    sentence = f"config note {i}: {secret.text} (copied from the wiki)"
    frame = pd.DataFrame(
        {"row": range(6), "comment": ["ok", "fine", sentence, "n/a", "good", "done"]}
    )
    return {
        f"text_{i}": sentence,
        f"nested_{i}": {"level1": {"level2": {"level3": sentence, "n": i}}},
        f"items_{i}": ["first", sentence, "last"],
        f"frame_{i}": frame,
        f"raw_{i}": sentence.encode(),
        f"holder_{i}": Holder(sentence),
    }


async def test_secret_corpus_never_leaks_through_tools_or_the_store(tmp_path: Path) -> None:
    assert len(SECRETS) >= 50
    namespace: dict[str, Any] = {}
    for i, secret in enumerate(SECRETS):
        namespace.update(placements(i, secret))
    ctx, store = await tool_context(tmp_path, namespace)

    outputs: dict[str, list[str]] = {}
    for name in namespace:
        got = [await T._describe_variable(ctx, name)]
        if not name.startswith(("holder_", "raw_")):
            got.append(await T._preview_rows(ctx, name, 0, 10, None))
        outputs[name] = got
    listing = await T._list_variables(ctx)

    leaked = []
    for i, secret in enumerate(SECRETS):
        for name, texts in outputs.items():
            if name.endswith(f"_{i}") and any(leaks(secret, t) for t in texts):
                leaked.append((secret.kind, name))
        assert not leaks(secret, listing)
    placed = 6 * len(SECRETS)
    print(f"\nsecret placements: {placed}, leaks: {len(leaked)}")
    assert leaked == []

    # Every result still shows the non-secret words around the secret.
    assert "copied from the wiki" in outputs["text_0"][0]
    assert "[REDACTED:" in outputs["frame_0"][1]

    on_disk = store.path.read_bytes().decode("utf-8")
    stored_leaks = [s.kind for s in SECRETS if leaks(s, on_disk)]
    assert stored_leaks == []
    assert on_disk.count("hidden_context_item") >= len(namespace)


def make_benign(seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    benign: list[str] = []
    benign += [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(10)]
    benign += [hashlib.sha256(rng.randbytes(16)).hexdigest() for _ in range(8)]
    # Digests as data, not as security: sha1 is what git SHAs look like.
    benign += [hashlib.sha1(rng.randbytes(16)).hexdigest() for _ in range(8)]  # noqa: S324
    benign += [hashlib.md5(rng.randbytes(16)).hexdigest() for _ in range(6)]  # noqa: S324
    words = ["the", "quarterly", "revenue", "report", "for", "north", "region", "growth"]
    for _ in range(8):
        sentence = " ".join(rng.choice(words) for _ in range(12)).encode()
        benign.append(base64.b64encode(sentence).decode())
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    benign += [(start + timedelta(seconds=rng.randrange(10**8))).isoformat() for _ in range(5)]
    benign += [str(rng.randrange(10**18, 10**19)) for _ in range(5)]
    benign += [
        "sk-learn",
        "max_tokens=256",
        "tokenizer: bert-base-uncased",
        "https://example.com/data.csv?page=2",
        "ssh://git@github.com/org/repo.git",
        "user@example.com",
        "AKIA",  # a prefix alone
        "the bearer bonds matured",
        "password reset instructions were sent",
        "key = value",
        "C:/Users/analyst/data/sales_2024.parquet",
    ]
    return benign


async def test_benign_look_alikes_mostly_pass(tmp_path: Path) -> None:
    benign = make_benign()
    assert len(benign) >= 50
    namespace = {f"value_{i}": text for i, text in enumerate(benign)}
    ctx, _store = await tool_context(tmp_path, namespace)
    changed = []
    for i, text in enumerate(benign):
        result = json.loads(await T._describe_variable(ctx, f"value_{i}"))
        if result[T.UNTRUSTED_FIELD]["value"] != text:
            changed.append(text)
    rate = len(changed) / len(benign)
    print(f"\nbenign look-alikes: {len(benign)}, redacted: {len(changed)}, FP rate {rate:.1%}")
    assert rate <= 0.10, changed
    assert all(redact_text(text) == text for text in benign[:45])  # digests, ids, dates


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "OPENAI_API_KEY",
        "apiKey",
        "APIKey",
        "x-api-key",
        "token",
        "hf_token",
        "githubToken",
        "SLACK_BOT_TOKEN",
        "access_token",
        "secret",
        "client_secret",
        "AWS_SECRET_ACCESS_KEY",
        "password",
        "db_password",
        "dbPassword",
        "passwd",
        "pwd",
        "credentials",
        "gcp_credential",
        "private_key",
        "privateKey",
        "auth",
        "basic_auth",
        "access_key",
        "bearer",
        "session_cookie",
        "session_key",
        "Authorization",
    ],
)
def test_secret_names_are_recognised(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "tokenizer",
        "max_tokens",
        "maxTokens",
        "num_tokens",
        "token_count",
        "token_ids",
        "eos_token",
        "input_tokens",
        "author",
        "authors",
        "auth_url",
        "key",
        "keys",
        "monkey",
        "keyboard",
        "df",
        "passenger",
        "sales",
        "compass",
        "bypass_cache",
    ],
)
def test_ordinary_names_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


async def test_secret_named_variables_show_redacted_everywhere(tmp_path: Path) -> None:
    plain = "hunter2-correct-horse"  # no secret format: only the name gives it away
    namespace = {
        "OPENAI_API_KEY": plain,
        "db_password": plain,
        "githubToken": [plain],
        "config": {"api_key": plain, "region": "eu"},
        "users": pd.DataFrame({"name": ["ann"], "password": [plain]}),
        "tokenizer": "bert-base",
    }
    ctx, store = await tool_context(tmp_path, namespace)
    listing = json.loads(await T._list_variables(ctx))[T.UNTRUSTED_FIELD]["variables"]
    assert listing["OPENAI_API_KEY"] == f"str: {REDACTED}"
    assert listing["githubToken"] == f"list: {REDACTED}"
    assert listing["tokenizer"] == "str: 9 characters"
    texts = [json.dumps(listing)]
    for name in namespace:
        texts.append(await T._describe_variable(ctx, name))
        texts.append(await T._preview_rows(ctx, name, 0, 10, None))
    key = json.loads(await T._describe_variable(ctx, "OPENAI_API_KEY"))
    assert key[T.UNTRUSTED_FIELD] == {"value": REDACTED}
    config = json.loads(await T._describe_variable(ctx, "config"))
    assert config[T.UNTRUSTED_FIELD]["items"] == {"api_key": REDACTED, "region": "eu"}
    assert "bert-base" in await T._describe_variable(ctx, "tokenizer")
    assert all(plain not in text for text in texts)
    assert plain not in store.path.read_text()


async def test_os_environ_is_never_exposed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = "envmarker" + "".join(random.Random(3).choices(ALNUM, k=24))
    monkeypatch.setenv("CHATKIT_NOTEBOOK_TEST_VALUE", marker)
    holder = Holder("see env")
    holder.env = os.environ  # type: ignore[attr-defined]
    namespace = {"env": os.environ, "os": os, "settings": {"env": os.environ}, "holder": holder}
    ctx, store = await tool_context(tmp_path, namespace)
    texts = [await T._list_variables(ctx, include_callables=True)]
    for name in namespace:
        texts.append(await T._describe_variable(ctx, name))
        texts.append(await T._preview_rows(ctx, name, 0, 20, None))
    joined = "".join(texts)
    assert marker not in joined
    assert "CHATKIT_NOTEBOOK_TEST_VALUE" not in joined
    assert marker not in store.path.read_text()
    env = json.loads(await T._describe_variable(ctx, "env"))
    assert env[T.UNTRUSTED_FIELD] == {"value": REDACTED}


class Leaky:
    def __repr__(self) -> str:
        raise ValueError(f"bad key {SECRETS[0].core}")


async def test_error_texts_are_redacted(tmp_path: Path) -> None:
    secret = SECRETS[0].core
    ctx, store = await tool_context(tmp_path, {"leaky": Leaky(), "df": pd.DataFrame({"a": [1]})})
    texts = [
        await T._describe_variable(ctx, secret),  # the model passes a secret as a name
        await T._preview_rows(ctx, "df", 0, 5, [secret]),
        await T._describe_variable(ctx, "leaky"),
        await T._preview_rows(ctx, secret, 0, 5, None),
    ]
    assert all(not leaks(SECRETS[0], text) for text in texts)
    assert "[REDACTED:openai-key]" in texts[0]
    assert "raised ValueError" in texts[2]
    assert not leaks(SECRETS[0], store.path.read_text())


# -- redact_text on its own ---------------------------------------------------------------------


@pytest.mark.parametrize("secret", SECRETS[:15], ids=lambda s: s.kind)
def test_each_format_gets_its_label(secret: Secret) -> None:
    out = redact_text(f"see {secret.text} here")
    assert "[REDACTED:" in out
    assert not leaks(secret, out)
    assert out.startswith("see ")
    assert out.endswith(" here")


def test_a_cut_never_shows_part_of_a_secret() -> None:
    for secret in SECRETS:
        text = ("lorem ipsum " * 20) + secret.text + (" dolor" * 50)
        for limit in range(0, len(text), 7):
            shown, _cut = redact_head(text, limit)
            assert not leaks(secret, shown), (secret.kind, limit)
            assert not leaks(secret, redact_tail(text, limit)), (secret.kind, limit)


@pytest.mark.slow
@pytest.mark.parametrize(
    "unit",
    ["eyJ-", "sk-", "password=", "-----BEGIN PRIVATE KEY-----", "key:", "x://a:", "a"],
)
def test_ten_megabytes_of_adversarial_text_take_linear_time(unit: str) -> None:
    text = unit * (10_000_000 // len(unit))
    started = time.monotonic()
    redact_text(text)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"{unit!r} x 10 MB took {elapsed:.1f} s: not linear"


# -- properties ------------------------------------------------------------------------------------

FILLER = st.text(alphabet=string.printable, max_size=60)
SEPARATOR = st.sampled_from([" ", "\n", "\t", ", ", "; ", " (", ") ", '"', "'", " = "])
SECRET = st.sampled_from(SECRETS)


@settings(max_examples=300, deadline=None, database=None)
@given(parts=st.lists(st.one_of(FILLER, SECRET.map(lambda s: s.text)), max_size=8))
def test_redaction_is_idempotent(parts: list[str]) -> None:
    text = " ".join(parts)
    once = redact_text(text)
    assert redact_text(once) == once


@settings(max_examples=300, deadline=None, database=None)
@given(before=FILLER, secret=SECRET, after=FILLER, left=SEPARATOR, right=SEPARATOR)
def test_output_never_contains_the_secret(
    before: str, secret: Secret, after: str, left: str, right: str
) -> None:
    out = redact_text(before + left + secret.text + right + after)
    assert not leaks(secret, out)


SAFE_ALPHABET = string.ascii_lowercase + string.digits + " .,!?()'\n\t/#%&*+"


@settings(max_examples=300, deadline=None, database=None)
@given(text=st.text(alphabet=SAFE_ALPHABET, max_size=400))
def test_text_without_secrets_passes_unchanged(text: str) -> None:
    assume("bearer" not in text)
    assert redact_text(text) == text
