"""Measured quality of the privacy engine: detection precision and recall per entity type, on a seeded
Faker corpus (:mod:`.corpus`) and on presidio-evaluator's public synthetic set (:mod:`.presidio_set`),
scored token by token (:mod:`.scoring`); k-anonymity and l-diversity cross-checked against pycanon
(:mod:`.pycanon_check`). Outside tools run in their own virtual environments (:mod:`.venvs`)."""
