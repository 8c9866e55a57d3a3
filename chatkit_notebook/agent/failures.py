"""Provider failures, explained: what went wrong and what to do, in one message.

Inside ``respond`` any exception would reach the user as a bare ``stream.error``. This maps
the failures people actually meet (no key, a rejected key, an unknown model, rate limits,
an endpoint that is down, a conversation too long, a guardrail) to a
``CustomStreamError`` whose text names the model and endpoint and says what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatkit.errors import CustomStreamError

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import ModelConfig

__all__ = ["explain_failure"]


def _chain(error: BaseException) -> list[BaseException]:
    """The error and the errors it was raised from, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def explain_failure(
    error: BaseException, config: ModelConfig, model: str
) -> CustomStreamError | None:
    """A user-facing error for a failed turn, or ``None`` if it is not one we know.

    Args:
        error: What the model run raised.
        config: The model settings in force (for the endpoint's name).
        model: The model, as shown to the user.
    """
    import openai
    from agents.exceptions import (
        InputGuardrailTripwireTriggered,
        MaxTurnsExceeded,
        OutputGuardrailTripwireTriggered,
    )

    endpoint = config.endpoint
    for cause in _chain(error):
        if isinstance(cause, ConfigError):
            return CustomStreamError(str(cause))
        if isinstance(cause, openai.AuthenticationError):
            return CustomStreamError(
                f"{endpoint} rejected the API key (401). Check OPENAI_API_KEY, or pass "
                "api_key= to chatkit_notebook.configure()."
            )
        if isinstance(cause, openai.PermissionDeniedError):
            return CustomStreamError(
                f"{endpoint} refused access to {model} (403): this key's project may not "
                "have access to the model. Pick another with %chatkit model NAME."
            )
        if isinstance(cause, openai.NotFoundError):
            return CustomStreamError(
                f"{endpoint} has no model {model!r} (404). Pick one it serves with "
                "%chatkit model NAME (for Ollama: `ollama list`, then `ollama pull NAME`)."
            )
        if isinstance(cause, openai.RateLimitError):
            if _code(cause) == "insufficient_quota":
                return CustomStreamError(
                    f"The account behind this key has no quota left at {endpoint}. Add "
                    "credit or use another key or a local model."
                )
            return CustomStreamError(
                f"{endpoint} is rate limiting requests (429). Wait a moment and retry.",
                allow_retry=True,
            )
        if isinstance(cause, openai.BadRequestError) and _is_context_overflow(cause):
            return CustomStreamError(
                f"This conversation is too long for {model}'s context window. Start a new "
                "thread, or ask about fewer or smaller variables."
            )
        if isinstance(cause, (openai.APIConnectionError, openai.APITimeoutError)):
            hint = (
                " Is the server running? The URL usually ends in /v1 (Ollama: "
                "http://localhost:11434/v1)."
                if config.base_url
                else " Check the network connection."
            )
            return CustomStreamError(f"Could not reach {endpoint}.{hint}", allow_retry=True)
        if isinstance(cause, openai.InternalServerError):
            return CustomStreamError(
                f"{endpoint} failed with a server error ({cause.status_code}). Retry in a moment.",
                allow_retry=True,
            )
        if isinstance(cause, (InputGuardrailTripwireTriggered, OutputGuardrailTripwireTriggered)):
            name = cause.guardrail_result.guardrail.get_name()
            return CustomStreamError(f"The guardrail {name!r} stopped this answer.")
        if isinstance(cause, MaxTurnsExceeded):
            return CustomStreamError(
                "The assistant took too many steps without answering. Ask a narrower "
                "question, or name the variable to look at.",
                allow_retry=True,
            )
        if isinstance(cause, openai.OpenAIError) and "api_key" in str(cause):
            return CustomStreamError(
                "No OpenAI API key: set OPENAI_API_KEY, call chatkit_notebook.configure("
                "api_key=...), or use a local model with %chatkit model NAME --base-url URL."
            )
    return None


def _code(error: BaseException) -> str | None:
    code = getattr(error, "code", None)
    if isinstance(code, str):
        return code
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("code"), str):
            return str(inner["code"])
    return None


def _is_context_overflow(error: BaseException) -> bool:
    if _code(error) == "context_length_exceeded":
        return True
    text = str(error).lower()
    return "context length" in text or "context_length" in text or "maximum context" in text
