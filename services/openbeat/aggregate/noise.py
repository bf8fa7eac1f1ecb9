"""Optional differential-privacy noise for counts, deterministic per secret and cell.

The mechanism is the two-sided geometric ("discrete Laplace") mechanism: integer noise Z with
P(Z = z) proportional to exp(-epsilon * |z|), the integer counterpart of Laplace(1/epsilon) noise
and epsilon-DP for a count of sensitivity 1 (adding or removing one incident changes one cell by
one). Noise is integer, so published counts stay integers.

Determinism: releases must be byte-identical for the same cutoff and input, so the noise is not
drawn from a random generator but derived from HMAC-SHA256(secret, label). The label names the
cell *and its true value*: re-running a release reproduces it exactly, and a cell whose value
has not changed between two releases shows the same noisy value in both (so averaging many
releases of an unchanged cell reveals nothing). A changed value gets fresh noise; each distinct
value a cell takes spends epsilon once, which is how the caller should account the budget.
The secret must not be published (use the pseudonym key or a key derived from it).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass

# Each uniform draw takes 8 bytes of the 32-byte digest; 2**64 steps make the draw's granularity
# far finer than any probability that matters for counts.
_UNIFORM_SCALE = float(2**64)


@dataclass(frozen=True)
class NoiseConfig:
    """Noise settings: epsilon per published cell and the secret the noise is derived from."""

    epsilon: float
    secret: bytes

    def __post_init__(self) -> None:
        if not (self.epsilon > 0 and math.isfinite(self.epsilon)):
            raise ValueError(f"epsilon must be a positive number, got {self.epsilon!r}")
        if not self.secret:
            raise ValueError("noise secret must not be empty")

    @property
    def alpha(self) -> float:
        """exp(-epsilon): the geometric ratio of the noise distribution."""
        return math.exp(-self.epsilon)

    def expected_abs(self) -> float:
        """E|Z| = 2a / (1 - a^2) with a = exp(-epsilon); for epsilon = 1 about 0.85."""
        alpha = self.alpha
        return 2 * alpha / (1 - alpha * alpha)


def _geometric(uniform: float, log_alpha: float) -> int:
    """Inverse-CDF draw of G on {0, 1, ...} with P(G >= g) = alpha**g."""
    return math.floor(math.log(uniform) / log_alpha)


def geometric_noise(config: NoiseConfig, label: str) -> int:
    """Discrete Laplace noise for `label`, the same every time for the same secret and label."""
    digest = hmac.new(config.secret, label.encode("utf-8"), hashlib.sha256).digest()
    # +0.5 keeps both uniforms strictly inside (0, 1), so log() is always defined.
    first = (int.from_bytes(digest[:8], "big") + 0.5) / _UNIFORM_SCALE
    second = (int.from_bytes(digest[8:16], "big") + 0.5) / _UNIFORM_SCALE
    log_alpha = -config.epsilon
    return _geometric(first, log_alpha) - _geometric(second, log_alpha)


def noisy_count(config: NoiseConfig, label: str, value: int, *, floor: int = 0) -> int:
    """`value` plus its deterministic noise, clamped to at least `floor` (never negative).

    Clamping is post-processing of the noisy value, so it costs no privacy.
    """
    return max(floor, value + geometric_noise(config, f"{label}|{value}"))
