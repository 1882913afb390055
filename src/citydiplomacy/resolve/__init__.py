"""Entity resolution: from a messy name (plus country, region, coordinates or
identifiers) to the actor it means — or an honest "not sure".

- :mod:`.names` — pure functions of names: variants, composite names, designation
  words, district keys;
- :mod:`.gazetteer` — :class:`Gazetteer`, the in-memory index of places (and
  :class:`Place`, :class:`Candidate`, :class:`Resolution`);
- the gazetteer's sources: :mod:`.geonames` (GeoNames towns), :mod:`.subdivisions`
  (ISO 3166-2, US counties, England's districts, Germany's Kreise, GeoNames admin2),
  :mod:`.districts` (districts of cities that no gazetteer holds), :mod:`.supplement`
  (the supplementary gazetteer, consulted last);
- :mod:`.resolver` — :class:`Resolver`, the decision procedure (docs/resolution.md);
- :mod:`.namesakes` — the rules that keep a name from its namesakes: what a qualifier
  names, states and provinces named as twins, regional capitals (part of the resolver);
- :mod:`.listcontext` — settling ambiguous names by the list they come from;
- :mod:`.evaluation` — scoring answers against hand labels.
"""

from .gazetteer import TERRITORIES, Candidate, Gazetteer, Place, Resolution, with_territories
from .names import district_keys, name_variants, parse_district_id, split_name
from .resolver import (ACCEPT, DOMINANCE, FUZZY_ACCEPT, FUZZY_CANDIDATE, FUZZY_MARGIN, FUZZY_MIN_LENGTH,
                       QUARTER_CITY_POP, QUARTER_KM, QUARTER_RATIO, QUARTER_TOWN_POP, UNKNOWN_FLOOR,
                       Resolver)

__all__ = ["Place", "Candidate", "Resolution", "Gazetteer", "Resolver", "ACCEPT",
           "DOMINANCE", "FUZZY_ACCEPT", "FUZZY_CANDIDATE", "FUZZY_MARGIN", "FUZZY_MIN_LENGTH",
           "QUARTER_KM", "QUARTER_RATIO", "QUARTER_CITY_POP", "QUARTER_TOWN_POP", "UNKNOWN_FLOOR",
           "TERRITORIES", "with_territories", "name_variants", "split_name", "district_keys",
           "parse_district_id"]
