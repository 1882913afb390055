"""Multilayer network analysis of the diplomacy system (igraph engine, NetworkX interop).

- :mod:`.graph` — the graph of the store, filtered by layer, tie type, axis, country and date
- :mod:`.centrality` — degree/strength, PageRank, betweenness, eigenvector, closeness
- :mod:`.multiplex` — the multiplex participation coefficient across tie types
- :mod:`.brokerage` — Gould–Fernandez brokerage roles between groups (layers, countries)
- :mod:`.reach` — routes from a city to the macro layer, vertical integration
- :mod:`.projection` — city–city projection of memberships, GaWC connectivity, communities
- :mod:`.io` — GraphML, GEXF, node-link JSON, GeoJSON
"""

import sys


def _import_igraph() -> None:
    """Import igraph without matplotlib. igraph imports ``matplotlib.pyplot`` (and through
    it most of matplotlib) when matplotlib is installed, for drawing this package never
    does: 0.5–2 s of every command that touches the graph. Unless matplotlib is already
    imported, it is hidden while igraph is imported, so igraph's matplotlib drawing
    (``igraph.plot`` on a matplotlib axis) is unavailable in this process; Cairo drawing,
    GraphML and every measure are unaffected."""
    if "igraph" in sys.modules or "matplotlib" in sys.modules:
        return
    sys.modules["matplotlib"] = None  # type: ignore[assignment]  # makes `import matplotlib` fail
    try:
        import igraph  # noqa: F401
    finally:
        if sys.modules.get("matplotlib", 0) is None:
            del sys.modules["matplotlib"]


_import_igraph()

from .graph import DiplomacyGraph, build_graph  # noqa: E402

__all__ = ["DiplomacyGraph", "build_graph"]
