"""A small hand-made store with engagements, for the tests of what the register feeds
(the network, the indices, the profile).

Seven cities, a city network and the SDG framework (so engagements can be aligned), a
twinning and a membership, and four engagements:

- ``decl``: a declaration of 4 signatories signing at different dates (Delta without
  its own date: the declaration's), organised by the network (not a signatory);
- ``decl2``: an earlier two-party declaration of Alpha and Beta (2010);
- ``ev``: an event in May 2019, Gamma hosting Alpha and Epsilon;
- ``agr``: an agreement of Alpha and Epsilon, 2020-01-10 to 2023, completed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from citydiplomacy.editing import add_actor, add_tie
from citydiplomacy.engage import add_engagement
from citydiplomacy.store import Store

SOURCE = {"source": "hand-made test data", "licence": "CC0"}
CITIES = [("alpha", "Alpha", "FR"), ("beta", "Beta", "DE"), ("gamma", "Gamma", "IT"), ("delta", "Delta", "ES"),
          ("epsilon", "Epsilon", "PT"), ("zeta", "Zeta", "PL"),
          ("omega", "Omega", "FR")]

ENGAGEMENTS = [
    {"key": "decl", "kind": "declaration", "title": "Declaration on climate action", "signed_on": "2015-12-01",
     "axes": ["sustainability"], "attrs": {"complete": False},
     "parties": [{"actor": "alpha", "role": "signatory", "signed_on": "2015-12-01"},
                 {"actor": "beta", "role": "signatory", "signed_on": "2016"},
                 {"actor": "gamma", "role": "signatory", "signed_on": "2018-03"},
                 {"actor": "delta", "role": "signatory"},
                 {"actor": "net", "role": "organiser"}]},
    {"key": "decl2", "kind": "declaration", "title": "Pledge on open data", "signed_on": "2010",
     "axes": ["digital"], "attrs": {"complete": True},
     "parties": [{"actor": "alpha", "role": "signatory"}, {"actor": "beta", "role": "signatory"}]},
    {"key": "ev", "kind": "event", "title": "Mayors summit", "start_on": "2019-05-02", "end_on": "2019-05-04",
     "status": "completed", "axes": ["engagement"],
     "parties": [{"actor": "alpha"}, {"actor": "epsilon"}, {"actor": "gamma", "role": "host"}]},
    {"key": "agr", "kind": "agreement", "title": "Memorandum on urban mobility", "signed_on": "2020-01-10",
     "end_on": "2023", "status": "completed", "axes": ["sustainability"], "parties": ["alpha", "epsilon"]},
]


def make_store(path: Path) -> Store:
    """The hand-made store at ``path`` (a new SQLite file)."""
    from citydiplomacy.dataset import build, frameworks

    store = Store(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "STEPS", [("SDG framework", frameworks.build_sdg)])
        build.build_default(store)
    for id_, name, country in CITIES:
        add_actor(store, name, "city", id=id_, country=country, **SOURCE)
    add_actor(store, "Net", "city_network", id="net", **SOURCE)
    add_tie(store, "alpha", "beta", "twinned_with", since="1990", **SOURCE)
    add_tie(store, "alpha", "gamma", "partner_of", since="2001", **SOURCE)
    add_tie(store, "alpha", "net", "member_of", since="2000", **SOURCE)
    add_tie(store, "zeta", "net", "member_of", since="2000", **SOURCE)
    for e in ENGAGEMENTS:
        add_engagement(store, e, mode="light", **SOURCE)
    return store
