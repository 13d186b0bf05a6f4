"""Sphinx configuration of the course website.

The sources are staged copies of the executed notebooks, written by
``course_utils.tools.site.build.build_site``; the
values that depend on a build (title, paths) come in as overrides from there. Nothing here
may make a page load a file from another host: MathJax is copied into ``_static/mathjax``
from the ``jupyter-server-mathjax`` wheel, and the theme's own scripts, styles and fonts are
shipped in its wheel.
"""

project = "Bayesian hierarchical models in Python"
language = "en"

extensions = ["myst_nb", "sphinx_design"]

# The notebooks are committed executed: render their outputs, never run them.
nb_execution_mode = "off"
# Widgets would load require.js and the widget manager from CDNs; the notebooks use none.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
nb_output_stderr = "show"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
# Jupyter shows $$...$$ as display math even inside a paragraph (e.g. two equations on
# consecutive lines); MyST does so only with this option.
myst_dmath_double_inline = True
myst_heading_anchors = 3
# MyST marks each page "mathjax_ignore" and turns MathJax back on for math elements through a
# MathJax 3/4 option; with MathJax 2 the same is said in tex2jax below.
myst_update_mathjax = False

# Slides start with "# Title" then "### Subtitle"; that jump is intended.
suppress_warnings = ["myst.header"]

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_js_files = ["course.js"]
# The staged notebooks differ from the course's (tags, folded solutions): offer the real
# downloads on each page instead of Sphinx's copy of the sources.
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "launch_buttons": {},
    "navigation_with_keys": False,
    "search_bar_text": "Search the course…",
    # One search field (in the sidebar; a button on narrow screens), not a second one in
    # the top bar.
    "navbar_persistent": [],
    "footer_content_items": [],
}
# First visit: follow the reader's light/dark preference (the theme's default is empty,
# which its script reports as an error in the console).
html_context = {"default_mode": "auto"}

# MathJax 2.7 from the jupyter-server-mathjax wheel (the one the slides use), copied into
# _static/mathjax by build_site. A relative mathjax_path is relative to _static.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {
    # Sphinx writes inline math as \( \) and display math as \[ \] inside class="math".
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": False,
        "processEnvironments": False,
        "ignoreClass": "tex2jax_ignore|mathjax_ignore",
        "processClass": "tex2jax_process|mathjax_process|math|output_area",
    },
    # The wheel ships only the STIX-Web web fonts: never look for local or image fonts.
    "HTML-CSS": {
        "availableFonts": [],
        "preferredFont": None,
        "webFont": "STIX-Web",
        "imageFont": None,
        "linebreaks": {"automatic": True},
    },
    "MMLorHTML": {"prefer": "HTML"},
    "fast-preview": {"disabled": True},
    "messageStyle": "none",
}
