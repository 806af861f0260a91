"""``python -m sk_rgmi`` runs the ``sk-rgmi`` command line."""

from sk_rgmi.cli import main

raise SystemExit(main())
