"""A year's ranking: ranks, the cut-off at the quota's position, who is admitted.

``from backoffice.ranking import rank_year, RankResult`` (services.py).
"""
from backoffice.ranking.services import RankResult, rank_year

__all__ = ["RankResult", "rank_year"]
