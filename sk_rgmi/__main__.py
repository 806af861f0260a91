"""``python -m sk_rgmi`` runs the ``sk-rgmi`` command line."""

from sk_rgmi.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
