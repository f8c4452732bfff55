"""``python -m cryospec``: the command line (:mod:`cryospec.app.cli`)."""

from cryospec.app.cli import main

raise SystemExit(main())
