"""Sphinx configuration for the sk_rgmi documentation.

Build with ``make -C docs html`` (runs the gallery) or ``make -C docs html-noplot``
(gallery pages without executing the examples, for CI). Warnings are errors
(``SPHINXOPTS=-W --keep-going`` in the Makefile), numpydoc's unknown-section check
included.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import sk_rgmi

project = "sk_rgmi"
author = "sk_rgmi developers"
copyright = "2026, sk_rgmi developers"
release = sk_rgmi.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    "auto_examples/*.codeobj.json",
]
root_doc = "index"

# -- autodoc / autosummary / numpydoc --------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc documents the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Fail the build (``-W``) on docstring sections numpydoc does not know ("Unknown
# section ...", check GL06): a misspelt heading would otherwise vanish silently.
numpydoc_validation_checks = {"GL06"}

# -- sphinx-gallery ----------------------------------------------------------------
# Examples run at build time unless ``plot_gallery`` is 0 (``make html-noplot``) or
# SK_RGMI_DOCS_PLOT=0. They read SK_RGMI_EXAMPLE_SCALE (``tiny`` shrinks their work).
_plot_gallery = os.environ.get("SK_RGMI_DOCS_PLOT", "1") not in ("0", "false", "False")

sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "plot_gallery": _plot_gallery,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
}

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sk_rgmi {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
html_last_updated_fmt = None
