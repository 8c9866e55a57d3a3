"""Tokens a turn used and what they cost: the receipt's "Tokens: ..." line.

Every model call's usage comes from the Agents SDK (the ``Usage`` of each ``ModelResponse``,
one per request), so a turn that called the model three times, or paused for approval and
went on, sums all of them. An endpoint that reports no usage (some OpenAI-compatible
servers even when asked, ``ModelSettings(include_usage=True)``) gives a call with zero
tokens: the receipt then says "n/a" rather than a plausible zero.

The price comes from ``genai-prices`` (a maintained price list; no table kept here), looked
up by the model's name and where it was sent:

* OpenAI (no base URL): provider ``openai``;
* an OpenAI-compatible base URL: the provider ``genai-prices`` knows by that URL (Groq,
  OpenRouter, ...). A URL it does not know (a local Ollama, a private vLLM) gets no price
  from the model's name alone: a model served on one's own machine is not billed per token
  at some provider's rate, and a made-up cost would be worse than "price unknown";
* ``litellm/<provider>/<model>``: that provider;
* a model object given to the server: only a price given with ``configure(prices=...)``.

``configure(prices={"name": {...}})`` wins over the list, for any model by its name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._items import TokenTotals, TurnTokens
from ..config import ModelPrice, price_overrides

if TYPE_CHECKING:
    from .plan import TurnPlan

__all__ = ["PriceKey", "TurnUsage", "UsageLog", "price_key"]

logger = logging.getLogger("chatkit_notebook")

_MILLION = 1_000_000


@dataclass(frozen=True)
class PriceKey:
    """How a turn's model is looked up in the price list."""

    model: str  # the name the request sent, and the name configure(prices=...) uses
    provider_id: str | None = None
    provider_api_url: str | None = None
    listed: bool = True  # False: only configure(prices=...) can price it


def price_key(plan: TurnPlan) -> PriceKey:
    """The price lookup for a turn run with ``plan`` (see the module's rules)."""
    config = plan.config
    if plan.source == "object":
        return PriceKey(plan.label, listed=False)
    name = plan.label
    if name.startswith("litellm/"):
        provider, _, model = name.removeprefix("litellm/").partition("/")
        return PriceKey(name, provider_id=provider) if model else PriceKey(name, listed=False)
    if config.is_openai:
        return PriceKey(name, provider_id="openai")
    return PriceKey(name, provider_api_url=config.base_url)


@dataclass
class TurnUsage:
    """The running count of one turn's tokens, one model call at a time."""

    key: PriceKey
    calls: int = 0
    reported: int = 0
    input: int = 0
    cached: int = 0
    output: int = 0
    cost: float = 0.0  # of the priced calls; each call is priced on its own (tiers)
    priced_by: str | None = None
    unpriced: bool = False

    def add(self, usage: Any) -> TurnTokens:
        """Count one model call's ``agents.Usage``; returns that call's own tokens."""
        self.calls += 1
        input_tokens = int(getattr(usage, "input_tokens", 0) or 0)
        output_tokens = int(getattr(usage, "output_tokens", 0) or 0)
        details = getattr(usage, "input_tokens_details", None)
        cached = int(getattr(details, "cached_tokens", 0) or 0)
        if not input_tokens and not output_tokens:  # the endpoint reported none
            return TurnTokens(calls=1)
        self.reported += 1
        self.input += input_tokens
        self.cached += cached
        self.output += output_tokens
        call = _priced(self.key, TurnTokens(1, 1, input_tokens, cached, output_tokens))
        if call.cost is None:
            self.unpriced = True
        else:
            self.cost += call.cost
            self.priced_by = call.priced_by
        return call

    def tokens(self) -> TurnTokens:
        """The turn's tokens so far, and their cost (``None`` if a call's is unknown)."""
        known = self.reported and not self.unpriced
        return TurnTokens(
            self.calls,
            self.reported,
            self.input,
            self.cached,
            self.output,
            self.cost if known else None,
            self.priced_by if known else None,
        )


def _priced(key: PriceKey, tokens: TurnTokens) -> TurnTokens:
    if not tokens.reported:
        return tokens
    given = price_overrides().get(key.model)
    if given is not None:
        return _with_cost(tokens, _cost(given, tokens), "configure(prices=...)")
    if not key.listed:
        return tokens
    cost = _listed_cost(key, tokens)
    return tokens if cost is None else _with_cost(tokens, cost, "genai-prices")


def _with_cost(tokens: TurnTokens, cost: float, priced_by: str) -> TurnTokens:
    return TurnTokens(
        tokens.calls, tokens.reported, tokens.input, tokens.cached, tokens.output, cost, priced_by
    )


def _cost(price: ModelPrice, tokens: TurnTokens) -> float:
    cached_price = price.input if price.cached is None else price.cached
    fresh = max(0, tokens.input - tokens.cached)
    dollars = fresh * price.input + tokens.cached * cached_price + tokens.output * price.output
    return dollars / _MILLION


def _listed_cost(key: PriceKey, tokens: TurnTokens) -> float | None:
    """The cost by ``genai-prices``, or ``None`` when it does not know the model there."""
    from genai_prices import Usage, calc_price

    usage = Usage(
        input_tokens=tokens.input, cache_read_tokens=tokens.cached, output_tokens=tokens.output
    )
    try:
        if key.provider_api_url is not None:
            found = calc_price(usage, key.model, provider_api_url=key.provider_api_url)
        else:
            found = calc_price(usage, key.model, provider_id=key.provider_id)
    except LookupError:
        return None
    except Exception:  # a broken price list must not fail the turn
        logger.warning("genai-prices could not price %s", key.model, exc_info=True)
        return None
    return float(found.total_price)


class UsageLog:
    """The tokens of every turn this kernel ran, by receipt: ``%chatkit usage``'s kernel
    line. A turn that paused for approval is counted once: its final receipt takes the
    place of the one shown at the pause."""

    def __init__(self) -> None:
        self._turns: dict[str, TurnTokens] = {}

    def record(self, receipt_id: str, tokens: TurnTokens | None, replaces: str | None) -> None:
        if replaces is not None:
            self._turns.pop(replaces, None)
        if tokens is not None:
            self._turns[receipt_id] = tokens

    def totals(self) -> TokenTotals:
        totals = TokenTotals()
        for tokens in list(self._turns.values()):
            totals.add(tokens)
        return totals
