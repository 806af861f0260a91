"""The ``sk-rgmi`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sk-rgmi",
        description="Mutual information and MI-maximising coarse-graining.",
    )
    parser.add_argument(
        "--version", action="version", version=f"sk-rgmi {__version__}"
    )
    parser.add_subparsers(dest="command")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0
