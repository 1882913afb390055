"""Multilayer network analysis of the diplomacy system (igraph engine, NetworkX interop).

- :mod:`.graph` — the graph of the store, filtered by layer, tie type, axis, country and date
- :mod:`.centrality` — degree/strength, PageRank, betweenness, eigenvector, closeness
- :mod:`.multiplex` — the multiplex participation coefficient across tie types
- :mod:`.brokerage` — Gould–Fernandez brokerage roles between groups (layers, countries)
- :mod:`.reach` — routes from a city to the macro layer, vertical integration
- :mod:`.projection` — city–city projection of memberships, GaWC connectivity, communities
- :mod:`.io` — GraphML, GEXF, node-link JSON, GeoJSON
"""

from .graph import DiplomacyGraph, build_graph

__all__ = ["DiplomacyGraph", "build_graph"]
