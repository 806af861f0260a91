"""Studies: end-to-end measurements behind the ``sk-rgmi`` commands.

- :mod:`sk_rgmi.studies.notebook` -- the original notebook's study
  (``sk-rgmi reproduce``): presets, rows, :func:`~sk_rgmi.studies.notebook.run_study`
  and its figure.

Every study returns a JSON-ready results dict, printed by :func:`format_table` and
saved by :func:`write_results` (``results.json``, ``results.csv``, a figure); the
repetitions, timings and per-row summaries come from one shared runner
(``_runner.py``). MI values are in nats.
"""

from ._report import format_table, write_results

__all__ = ["format_table", "write_results"]
