"""Sphinx configuration for the rendered nlpbook.

Sources are not kept here: `python -m nlpbook.docs book` executes every notebook in nbs/,
processes it with nbdev's doc processors into docs/_nbs/ (generated, gitignored) and runs
`sphinx-build -c docs docs/_nbs docs/_build/html`. Notebooks are already executed, so
myst-nb only renders. Everything the pages load is local: the build works offline and so
do the pages (furo bundles its assets; MathJax comes from sphinx-mathjax-offline when installed).
"""
import importlib.util, shutil
from pathlib import Path

try: import tomllib
except ImportError: tomllib = None  # Python 3.10: fall back to the defaults below

_root = Path(__file__).resolve().parent.parent
_cfg = {}
if tomllib and (_root/"pyproject.toml").exists():
    _cfg = tomllib.loads((_root/"pyproject.toml").read_text()).get("tool", {}).get("nbdev", {})

project = _cfg.get("title", "nlpbook")
author = "nlpbook developers"
copyright = "nlpbook developers"
language = "en"

extensions = ["myst_nb"]
nb_execution_mode = "off"                  # executed already, the way nbdev-test runs them
nb_merge_streams = True                    # one block per cell for print() output
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "html_image", "attrs_block"]  # attrs_block: show_doc sections get a class
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

exclude_patterns = ["_build", "**.ipynb_checkpoints", ".jupyter_cache", "jupyter_execute"]

html_theme = "furo"
html_title = project
html_static_path = ["_static"]
html_css_files = ["nlpbook.css"]
html_copy_source = False                   # the notebooks themselves live in the repo
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}

# Math renders offline when sphinx-mathjax-offline is installed: copy just the one bundle it
# needs (tex-chtml + its fonts, ~1.5 MB) instead of the package's whole 24 MB tree.
_mj = importlib.util.find_spec("sphinx-mathjax-offline")
if _mj is not None:
    _mj_dir = Path(_mj.origin).parent/"static"/"mathjax"
    mathjax_path = "mathjax/tex-chtml.js"

    def _copy_mathjax(app, exc):
        if exc is not None: return
        dest = Path(app.outdir)/"_static"/"mathjax"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_mj_dir/"tex-chtml.js", dest/"tex-chtml.js")
        shutil.copytree(_mj_dir/"output"/"chtml"/"fonts", dest/"output"/"chtml"/"fonts", dirs_exist_ok=True)

    def setup(app): app.connect("build-finished", _copy_mathjax)
