"""Recommendations: partner cities for a city, networks for a city, members for a network —
scored by a model fitted on the store's ties, explained with the facts they rest on, and
measured by ``benchmarks/bench_recommend.py`` (see docs/recommend.md).

- :mod:`.data` — the store's graph as sparse arrays, with country, language and bloc tables
- :mod:`.signals` — the signals: network proximity, geography, language, history, profiles
- :mod:`.model` — the learned combination (gradient boosting; a fixed-weight fallback)
- :mod:`.themes` — an SDG goal or target, a Paris article, an axis or a text as a theme
- :mod:`.explain` — the reasons for a recommendation, with the actors and ties they rest on
- :mod:`.engine` — the three questions: :func:`recommend_partners`, :func:`recommend_networks`,
  :func:`recommend_members`
"""

from .engine import Recommender, recommend_members, recommend_networks, recommend_partners, recommender

__all__ = ["Recommender", "recommender", "recommend_partners", "recommend_networks", "recommend_members"]
