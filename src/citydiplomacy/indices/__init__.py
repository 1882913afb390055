"""Composite indices of city diplomacy: axis profiles, scores, ranks and their uncertainty.

- :mod:`.framework`: the indicator framework (YAML): units, indicators, choices;
- :mod:`.indicators`: each indicator computed from the store;
- :mod:`.spec`, :mod:`.steps`, :mod:`.pipeline`: the construction steps (screening,
  imputation, outliers, normalisation, weighting, aggregation, multivariate checks), after
  the JRC/OECD Handbook on Constructing Composite Indicators;
- :mod:`.uncertainty`: Monte Carlo rank intervals and Sobol sensitivity indices;
- :mod:`.build`, :mod:`.results`: building from the store, storing, reading results.

See docs/indices.md (the user guide) and docs/indices-method.md (the method).
"""
