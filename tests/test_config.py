"""Model configuration: environment, configure(), base URLs, keys, model construction."""

from __future__ import annotations

import pytest
from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel

from chatkit_notebook import ConfigError
from chatkit_notebook.config import (
    configure,
    current_config,
    normalize_base_url,
    reset_configuration,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://localhost:11434", "http://localhost:11434/v1"),
        ("http://localhost:11434/", "http://localhost:11434/v1"),
        ("http://localhost:11434/v1", "http://localhost:11434/v1"),
        ("http://localhost:11434/v1/", "http://localhost:11434/v1"),
        ("  https://host:8000/v1/chat/completions ", "https://host:8000/v1"),
        ("http://host/proxy/openai", "http://host/proxy/openai/v1"),
        ("http://127.0.0.1:8080/v1/models", "http://127.0.0.1:8080/v1"),
    ],
)
def test_base_urls_are_normalised_to_v1(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize("bad", ["localhost:11434", "ftp://host/v1", "", "http://"])
def test_bad_base_url_names_the_value(bad: str) -> None:
    with pytest.raises(ConfigError, match="is not an http") as failure:
        normalize_base_url(bad)
    assert repr(bad) in str(failure.value)


def test_defaults_to_openai_responses_with_the_sdk_default_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config = current_config()
    assert config.effective_api == "responses"
    assert config.model is None
    model = config.build_model()
    assert isinstance(model, OpenAIResponsesModel)
    from agents.models.default_models import get_default_model

    assert config.model_name == get_default_model()


def test_missing_api_key_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="No OpenAI API key: set OPENAI_API_KEY"):
        current_config().build_model()


def test_environment_chooses_model_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434")
    monkeypatch.setenv("CHATKIT_NOTEBOOK_MODEL", "llama3.1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    config = current_config()
    assert (config.model, config.base_url, config.effective_api) == (
        "llama3.1",
        "http://127.0.0.1:11434/v1",
        "chat_completions",
    )
    assert config.api_key == "sk-env"  # the environment pairs this key with this URL
    model = config.build_model()
    assert isinstance(model, OpenAIChatCompletionsModel)
    assert config.describe() == "llama3.1 via http://127.0.0.1:11434/v1"


def test_configure_overrides_the_environment_and_keeps_other_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATKIT_NOTEBOOK_MODEL", "from-env")
    configure(model="qwen2.5", base_url="http://localhost:8000")
    configure(api="responses")
    config = current_config()
    assert (config.model, config.base_url, config.api) == (
        "qwen2.5",
        "http://localhost:8000/v1",
        "responses",
    )
    assert isinstance(config.build_model(), OpenAIResponsesModel)
    configure(base_url="")
    assert current_config().base_url is None


def test_reset_configuration_goes_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATKIT_NOTEBOOK_MODEL", "from-env")
    configure(model="qwen2.5", base_url="http://localhost:8000", tracing=True, max_retries=0)
    reset_configuration()
    config = current_config()
    assert (config.model, config.base_url) == ("from-env", None)
    assert (config.tracing, config.max_retries) == (False, 2)


def test_openai_key_is_not_sent_to_an_endpoint_chosen_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    configure(base_url="http://some-host.example:8000")
    assert current_config().api_key is None
    configure(api_key="vllm-key")
    assert current_config().api_key == "vllm-key"


def test_local_endpoints_need_no_key() -> None:
    configure(model="llama3.1", base_url="http://localhost:11434")
    assert isinstance(current_config().build_model(), OpenAIChatCompletionsModel)


def test_api_key_never_appears_in_repr() -> None:
    configure(api_key="sk-do-not-print-me")
    assert "sk-do-not-print-me" not in repr(current_config())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "  "}, "Model name is empty"),
        (
            {"api": "completions"},
            "api must be 'responses' or 'chat_completions', not 'completions'",
        ),
        ({"base_url": "not a url"}, "'not a url' is not an http"),
    ],
)
def test_bad_configure_changes_nothing(kwargs: dict[str, str], message: str) -> None:
    configure(model="kept")
    with pytest.raises(ConfigError, match=message):
        configure(**kwargs)  # type: ignore[arg-type]
    assert current_config().model == "kept"


def test_litellm_names_need_the_extra() -> None:
    configure(model="litellm/anthropic/claude-3-5-sonnet")
    config = current_config()
    assert config.is_litellm
    try:
        import litellm  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"pip install 'chatkit-notebook\[litellm\]'"):
            config.build_model()
    else:
        from agents.extensions.models.litellm_model import LitellmModel

        assert isinstance(config.build_model(), LitellmModel)


def test_tracing_is_off_unless_asked_for() -> None:
    assert current_config().tracing is False
    assert configure(tracing=True).tracing is True
