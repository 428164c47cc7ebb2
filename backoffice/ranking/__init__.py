"""A year's ranking: ranks, the cut-off at the quota's position, who is admitted.

``from backoffice.ranking import rank_year, RankResult`` (services.py); imported lazily
so the CLI can register the command without loading the models.
"""


def __getattr__(name):
    if name in ("rank_year", "RankResult"):
        from backoffice.ranking import services

        return getattr(services, name)
    raise AttributeError(name)
