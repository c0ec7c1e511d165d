"""Sphinx configuration for the fastopt documentation.

Build with::

    python -m pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build imports :mod:`fastopt` (autodoc) but runs no examples and needs no
network access.
"""
import os
import sys

# Document the checkout this file belongs to, even when another copy of
# fastopt is installed.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                "..")))

import fastopt  # noqa: E402

project = "fastopt"
author = "The fastopt developers"
copyright = "2025, The fastopt developers"
version = release = fastopt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]

# No intersphinx: the build must not fetch anything.
templates_path = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "autolink"
highlight_language = "python3"

# -- autodoc / autosummary ---------------------------------------------------
autosummary_generate = True          # stubs go to docs/api/generated
autosummary_imported_members = False
autodoc_default_options = {"members": False}
autodoc_typehints = "none"

# -- numpydoc ----------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- HTML --------------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "SciPy's optimisation building blocks, compiled with Numba",
    "fixed_sidebar": True,
}
html_static_path = []
html_title = f"fastopt {release}"
