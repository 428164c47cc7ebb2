"""Points engine for Beijing's points-based hukou scheme (积分落户), 2021 handbook rules.

Pure Python (no Flask, SQLAlchemy or RQ). The contract is
``shared/contracts/SCORING.md``: ``score(data)`` takes a score input v1 dict and
returns a JSON-ready score result v1 dict.

    >>> from backoffice.scoring import score
    >>> score(application)["total"]
    88.21
"""

from .engine import (
    ENGINE_VERSION,
    ScoreInput,
    ScoreInputError,
    month_count,
    score,
    validate,
)

__all__ = [
    "ENGINE_VERSION",
    "ScoreInput",
    "ScoreInputError",
    "month_count",
    "score",
    "validate",
]
