"""The Python API: ``citydiplomacy.open()`` returns an :class:`Observatory`, the same
operations as the command line (search, get, ties, profile, frameworks, status)."""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

from . import actors as _actors
from . import frameworks as _frameworks
from . import membership as _membership
from . import profile as _profile
from . import search as _search
from . import status as _status
from .paths import resolve_store_path
from .store import Store


class Observatory:
    """A store plus the operations on it. Use :func:`open` to get one."""

    def __init__(self, store: Store):
        self.store = store
        self._graphs: dict[tuple, Any] = {}
        self._resolver: tuple[int, Any] | None = None
        self._resolver_lock = threading.Lock()

    # -- building -------------------------------------------------------------------
    def init(self, *, force: bool = False,
             progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
        """Build the default dataset into the store (``force`` replaces what is there)."""
        from .dataset import build_default

        return build_default(self.store, force=force, progress=progress)

    def is_empty(self) -> bool:
        return self.store.is_empty()

    # -- reading --------------------------------------------------------------------
    def search(self, text: str, *, kind: str | None = None, country: str | None = None,
               layer: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Actors matching ``text`` in any name, alias or language, best first."""
        return _search.search(self.store, text, kind=kind, country=country, layer=layer, limit=limit)

    def get(self, ref: str) -> dict[str, Any]:
        """One actor from an id, a Wikidata QID, a GeoNames id or a name; a city network
        comes with its membership figures under ``members`` (see :meth:`coverage`)."""
        actor = _actors.resolve_actor(self.store, ref)
        if actor["kind"] == "city_network":
            with self.store.connect() as conn:
                actor["members"] = _membership.network_members(conn, actor["id"], actor.get("attrs"))
        return actor

    def coverage(self, ref: str | None = None) -> Any:
        """How much of a network's membership the store holds: its members held, its own
        published count and the coverage ("33 of about 200 members held"), with the
        sources of its members; without ``ref``, every city network, largest first."""
        if ref is None:
            return _membership.coverage_table(self.store)
        return _membership.network_coverage(self.store, ref)

    def ties(self, ref: str, *, type: str | None = None, layer: str | None = None,  # noqa: A002
             axis: str | None = None, kind: str | None = None, country: str | None = None,
             bloc: str | None = None, as_of: str | None = None) -> list[dict[str, Any]]:
        """The ties of an actor, filtered (see :func:`citydiplomacy.actors.list_ties`)."""
        actor = _actors.resolve_actor(self.store, ref)
        return _actors.list_ties(self.store, actor["id"], type=type, layer=layer, axis=axis, kind=kind,
                                 country=country, bloc=bloc, as_of=as_of)

    def profile(self, ref: str, *, network: bool = False, build: str | None = None, graph=None) -> dict[str, Any]:
        """The diplomacy profile of a city (or any actor); with ``network``, also its
        centrality ranks, brokerage roles and reach in the store's graph (a few seconds
        the first time after the store changes, while the graph and the ranks of every
        actor are computed; they are then kept beside the store; a server passes the
        ``graph`` it shares). Its index scores are the published build's, or the build
        named ``build`` (unknown: NotFoundError naming the builds, before any other work)."""
        from .indices.builds import build_run
        from .indices.stored import brief

        if build is not None:
            with self.store.connect() as conn:
                build_run(conn, build)
        if network and graph is None:
            graph = self.graph()
        p = _profile.build_profile(self.store, ref, graph=graph if network else None)
        index = brief(self.store, p["actor"]["id"], build)
        if index is not None:
            p["index"] = index
        return p

    def resolve(self, name: str, country: str | None = None, *, region: str | None = None,
                lat: float | None = None, lon: float | None = None, wikidata: str | None = None,
                geonames_id: int | None = None) -> dict[str, Any]:
        """Resolve a messy name to the actor it means, with a score and the evidence, or
        the ranked candidates when it is not sure (docs/resolution.md). Nothing is written:
        a small town or a subdivision the store does not hold yet comes back with
        ``in_store`` false. The gazetteer is built on the first call (a few seconds) and
        kept while the store is unchanged."""
        from .errors import ValidationError
        from .ingest.resolving import StoreResolver, describe

        if not (name or "").strip():
            raise ValidationError("give a name to resolve", field="name")
        with self._resolver_lock:
            version = self._data_version()
            if self._resolver is None or self._resolver[0] != version:
                self._resolver = (version, StoreResolver(self.store))
            sr = self._resolver[1]
            sr.extend([country] if country else [])
            res = sr.resolve(name.strip(), country or None, region=region, lat=lat, lon=lon,
                             wikidata=wikidata, geonames_id=geonames_id)
            return describe(sr, res)

    def frameworks(self) -> list[dict[str, Any]]:
        return _frameworks.list_frameworks(self.store)

    def framework(self, framework: str = "sdg", code: str | None = None, *,
                  lang: str = "en") -> dict[str, Any]:
        """A framework's top level, or one item and its children, in ``lang``."""
        return _frameworks.browse(self.store, framework, code, lang=lang)

    # -- network ----------------------------------------------------------------------
    def graph(self, **filters: Any):
        """The store's graph (see :func:`citydiplomacy.network.build_graph` for the
        filters), built once per set of filters and kept while the store is unchanged:
        in memory, and on disk beside the store (:mod:`citydiplomacy.network.cache`), so
        that the next command reads it instead of building it again. Results computed
        on it (centralities, vertical integration) are kept there too."""
        from .network import DiplomacyGraph, build_graph
        from .network.cache import GraphResults, data_version, result_cache

        version = data_version(self.store)
        fkey = tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                            for k, v in filters.items() if v is not None))
        key = (version, fkey)
        if key not in self._graphs:
            self._graphs = {k: v for k, v in self._graphs.items() if k[0] == key[0]}
            results = GraphResults(result_cache(self.store), version, fkey)
            g, kept = results.get_or_compute(("graph",), lambda: _graph_parts(build_graph(self.store, **filters)))
            self._graphs[key] = DiplomacyGraph(g, kept, results=results)
        return self._graphs[key]

    def _data_version(self) -> tuple:
        """The store's data version (raised by every write of any process): results
        computed before it changed are stale."""
        from .network.cache import data_version

        return data_version(self.store)

    # -- recommendations (citydiplomacy.recommend) --------------------------------------

    def recommend_partners(self, ref: str, **options: Any) -> dict[str, Any]:
        """Candidate partner cities for ``ref``, explained (see
        :func:`citydiplomacy.recommend.recommend_partners` for the options: theme, countries,
        blocs, layers, kinds, band, max_km, exclude_existing, top). The first call after the
        store changes fits the models (tens of seconds); they are then kept beside the store."""
        from .recommend import recommend_partners
        return recommend_partners(self.store, ref, graph=self.graph(), **options)

    def recommend_networks(self, ref: str, **options: Any) -> dict[str, Any]:
        """City networks ``ref`` could join, explained (options: theme, exclude_existing, top)."""
        from .recommend import recommend_networks
        return recommend_networks(self.store, ref, graph=self.graph(), **options)

    def recommend_members(self, ref: str, **options: Any) -> dict[str, Any]:
        """Cities the network ``ref`` could recruit, explained (options: theme, countries,
        blocs, kinds, band, exclude_existing, top)."""
        from .recommend import recommend_members
        return recommend_members(self.store, ref, graph=self.graph(), **options)

    # -- alignment and initiatives -----------------------------------------------------

    def align(self, text: str, **options: Any):
        """Align a text with the SDGs, the Paris Agreement and the axes (see
        :func:`citydiplomacy.align.align`); the store is not needed and not changed."""
        from .align import align
        return align(text, **options)

    def add_initiative(self, actor: str, title: str, text: str = "", *, dry_run: bool = False,
                       **fields: Any):
        """Add or update one initiative of ``actor`` (``source`` is required: where it is
        described) and align it; atomic, like an import. Returns the run's report."""
        from .ingest.apply import apply_plan
        from .initiatives import plan_one
        return apply_plan(self.store, plan_one(self.store, actor, title, text, **fields), dry_run=dry_run)

    def initiatives(self, ref: str) -> list[dict[str, Any]]:
        """The initiatives of an actor, with their aligned goals, targets and articles."""
        from .initiatives import list_initiatives
        return list_initiatives(self.store, _actors.resolve_actor(self.store, ref)["id"])

    # -- single edits (the web and API write through these) ----------------------------

    def add_tie(self, source_actor: str, target: str, type: str, **fields: Any):  # noqa: A002
        """Add a tie (or change the status/end of the same tie); ``source`` (where it is
        documented) is required. Atomic; returns the run's report."""
        from .editing import add_tie
        return add_tie(self.store, source_actor, target, type, **fields)

    def add_actor(self, name: str, kind: str, **fields: Any):
        """Add an actor; ``source`` is required. Atomic; returns the run's report."""
        from .editing import add_actor
        return add_actor(self.store, name, kind, **fields)

    def edit_actor(self, ref: str, **fields: Any):
        """Change an actor's fields (see :data:`citydiplomacy.editing.EDITABLE`); ``source``
        is required; the report's ``changes`` say old → new."""
        from .editing import edit_actor
        return edit_actor(self.store, ref, **fields)

    # -- import / export ------------------------------------------------------------
    def import_(self, importer: str, source: Any = None, *, dry_run: bool = False,
                review: str | None = None, limits: Any = None, **options: Any):
        """Run an importer (``twinning``, ``table``, ``wikidata``, ``datapackage``,
        ``review``) atomically; returns its :class:`~citydiplomacy.ingest.Report`.
        ``limits``: a :class:`~citydiplomacy.limits.Limits` or a channel (``cli``,
        ``editor``, ``anonymous``) whose sizes and time the run is held to."""
        from .ingest import run_import

        return run_import(self.store, importer, source, dry_run=dry_run, review=review, limits=limits,
                          **options)

    def export(self, out: str | os.PathLike, *, fmt: str = "datapackage", **filters: Any) -> dict[str, int]:
        """Write the store (or a filtered part) to the directory ``out``."""
        from .export import export_store

        return export_store(self.store, out, fmt=fmt, **filters)

    # -- composite indices (citydiplomacy.indices) --------------------------------------
    def build_index(self, framework: Any = None, *, years: list[int] | None = None,
                    replications: int | None = None, seed: int | None = None,
                    progress: Callable[[str, int, int], None] | None = None, name: str | None = None,
                    publish: bool | None = None):
        """Build the axis indices from the store and keep them as a named build beside the
        others (the first is published; later ones when ``publish`` is True); ``framework``:
        a YAML path or :class:`~citydiplomacy.indices.framework.Framework` (default: the
        shipped one); ``name``: a name of its own. Returns a
        :class:`~citydiplomacy.indices.build.BuildReport`."""
        from .indices.build import build_index

        return build_index(self.store, framework, years=years, replications=replications, seed=seed,
                           progress=progress, name=name, publish=publish)

    def index_builds(self) -> list[dict[str, Any]]:
        """The index builds, newest first: name, own name, published or not, framework and
        its hash, years, options, data version, date, cities scored."""
        from .indices.builds import list_builds

        return list_builds(self.store)

    def index_build(self, build: str | None = None) -> dict[str, Any]:
        """The published build (or the one named ``build``): its name, run and choices."""
        from .indices.results import index_run

        return index_run(self.store, build)

    def index_publish(self, build: str) -> dict[str, Any]:
        """Make the build named ``build`` the one the web and the API show (audited)."""
        from .indices.builds import publish_build

        return publish_build(self.store, build)

    def index_remove(self, build: str) -> dict[str, Any]:
        """Delete a build that is not the published one, with its results."""
        from .indices.builds import remove_build

        return remove_build(self.store, build)

    def index_show(self, ref: str, *, build: str | None = None) -> dict[str, Any]:
        """A city's scores, rank intervals, peer ranks and drivers from the published build
        (or the build named ``build``)."""
        from .indices.results import show

        return show(self.store, ref, build=build)

    def index_rank(self, *, axis: str = "overall", top: int = 20, **filters: Any) -> dict[str, Any]:
        """The cities ranked on ``axis`` (filters: region, bloc, country, band, year, build;
        ``low_data=True`` also lists the cities whose rank is withheld for low data)."""
        from .indices.results import ranking

        return ranking(self.store, axis=axis, top=top, **filters)

    def index_sensitivity(self, framework: Any = None, *, n_base: int = 256, seed: int | None = None):
        """Sobol indices of the overall ranking to each choice (a DataFrame)."""
        from .indices.build import sensitivity

        return sensitivity(self.store, framework, n_base=n_base, seed=seed)

    def index_export(self, out: str | os.PathLike, *, fmt: str = "csv", build: str | None = None) -> dict[str, Any]:
        """Write the published build's (or the build ``build``'s) scores, indicator values
        and run description."""
        from .indices.results import export_results

        return export_results(self.store, out, fmt=fmt, build=build)

    def status(self) -> dict[str, Any]:
        return _status.store_status(self.store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<Observatory {self.store.path or self.store.url}>"


def _graph_parts(dg) -> tuple:
    return dg.g, dg.filters


def open(path: str | os.PathLike | None = None, *, home: str | os.PathLike | None = None,  # noqa: A001
         build: bool = True, db: str | None = None,
         progress: Callable[[str, int, int], None] | None = None) -> Observatory:
    """Open the store at ``path`` (a file, a directory, or a database URL), the database
    ``db`` (a URL: ``postgresql+psycopg://USER@HOST:PORT/DB``), in ``home``, or in the
    default home (``$CITYDIP_HOME`` or the per-user data directory). Without ``path``
    and ``db``, ``$CITYDIP_DATABASE_URL`` names the database when set. An empty store
    gets the default dataset on first use unless ``build=False``."""
    from .paths import database_url

    url = db or (str(path) if isinstance(path, str) and "://" in path else None)
    if url is None and path is None:
        url = database_url()
    if url:
        from pathlib import Path

        from .paths import default_home

        store = Store(url=url)
        store.home = Path(home).expanduser() if home is not None else default_home()
    else:
        store = Store(resolve_store_path(path, home=home))
    obs = Observatory(store)
    if build and obs.is_empty():
        obs.init(progress=progress)
    return obs
