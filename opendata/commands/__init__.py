"""One module per ``opendata`` verb. Each defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args, settings) -> int``; :mod:`opendata.cli` finds them in ``VERBS``."""

from __future__ import annotations

VERBS = ["run", "serve", "up", "datasets", "releases", "report", "runs", "keys", "approve", "reject", "evaluate"]
VERBS += ["scheduler", "worker"]
VERBS += ["ckan"]
VERBS += ["validate", "schema", "policy"]
VERBS += ["migrate", "sweep"]
VERBS += ["harvest", "source"]
VERBS += ["procurement"]
VERBS += ["withdraw"]
VERBS += ["db"]
