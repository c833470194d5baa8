"""Sphinx configuration for the rpde_publisher documentation."""

project = "rpde_publisher"
copyright = "2026, rpde_publisher developers"
author = "rpde_publisher developers"
release = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
    "pallets_sphinx_themes",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
html_theme = "flask"
html_title = "rpde_publisher"
html_static_path: list[str] = []
exclude_patterns = ["_build"]
nitpicky = False
