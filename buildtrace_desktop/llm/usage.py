"""Token use and estimated cost of LLM requests, and what a comparison already spent."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# USD per million tokens (input, output). Estimates from the providers' price pages (2025); edit as they
# change. A model not listed costs 0 with a note, and then only the token limit protects the budget.
PRICES_USD_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o4-mini": (1.10, 4.40),
}


@dataclass
class Budget:
    """What earlier LLM requests of the same comparison already used (from the summaries table)."""

    tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    requests: int = 0
    estimated: bool = False  # the server reported no usage; tokens are estimated from characters

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": round(self.cost_usd, 6),
            "requests": self.requests,
            "estimated": self.estimated,
        }


def model_price(model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens; the longest listed prefix of a dated name; None if unknown."""
    name = model.lower().split("/")[-1]
    matches = [key for key in PRICES_USD_PER_MTOK if name == key or name.startswith(key + "-")]
    return PRICES_USD_PER_MTOK[max(matches, key=len)] if matches else None


def estimate_cost(model: str, tokens_in: int, tokens_out: int) -> float:
    price = model_price(model)
    if price is None:
        return 0.0
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000
