"""The course website: staging, checks, and the built site in a real browser.

The site is built once per session from the committed executed notebooks of the course, with
freshly written student editions and rendered slides; the browser tests drive the system's
headless Chromium through Playwright, from disk (file://) and from the local server, and
refuse every request to another host.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from course_utils.tools import manifest, student
from course_utils.tools.browser import launch_browser
from course_utils.tools.notebook import CHECK_TAG, SOLUTION_TAG, has_tag
from course_utils.tools.site import build, checks, serve, stage
from course_utils.tools.slides.browser import javascript
from course_utils.tools.slides.render import render_decks

COURSE = manifest.load_course()
LOCAL = ("file:", "data:", "blob:", "about:")
# MathJax 2 (HTML-CSS output) probes web-font support with a font at about:blank, which
# Chromium refuses with a CORS message; that probe, and only it, is not a page error.
MATHJAX_FONT_PROBE = "Access to font at 'about:blank'"
TIMEOUT_MS = 180_000
MATHJAX_DONE_JS = javascript("mathjax_done")
UNTYPESET_MATH_JS = javascript("untypeset_math")

# MyST-Parser 5.2 uses an attribute that Sphinx 9 deprecates (for Sphinx 11).
pytestmark = pytest.mark.filterwarnings("ignore::sphinx.deprecation.RemovedInSphinx11Warning")


# --- Inputs ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def downloads(tmp_path_factory):
    """Student editions and rendered slides (HTML and PDF) of the whole course."""
    root = tmp_path_factory.mktemp("downloads")
    student.write_student_editions(COURSE.lessons, root / "student", report=lambda _: None)
    render_decks(COURSE.notebooks, root / "slides", report=lambda _: None)
    return {"student": root / "student", "slides": root / "slides"}


@pytest.fixture(scope="session")
def built(downloads, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    start = time.perf_counter()
    index = build.build_site(
        COURSE,
        out,
        student_dir=downloads["student"],
        slides_dir=downloads["slides"],
        report=lambda line: None,
    )
    print(f"\nsite built in {time.perf_counter() - start:.1f} s")
    return index.parent


@pytest.fixture(scope="session")
def server(built):
    httpd = serve.make_server(built, 0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    with launch_browser() as running:
        yield running


def site_pages(out: Path) -> list[Path]:
    """Every HTML page a reader can open: the Sphinx pages and the slide decks."""
    return sorted(out.glob("*.html")) + sorted((out / checks.SLIDES_HREF).glob("*.slides.html"))


# --- Opening pages offline -------------------------------------------------------------------


def open_page(browser, url, *, allowed, width=1280, height=900, wait_math=True):
    """Open a page, refusing requests outside ``allowed``; return (page, log)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    # Generous: MathJax 2 typesets a long lesson in seconds, far slower on a busy machine.
    context.set_default_timeout(TIMEOUT_MS)
    log = {"blocked": [], "failed": [], "errors": [], "console": []}

    def route(route_):
        if route_.request.url.startswith(allowed):
            route_.continue_()
        else:
            log["blocked"].append(route_.request.url)
            route_.abort()

    def console(message):
        if message.type != "error":
            return
        text = message.text
        origin = message.location.get("url", "")
        if text.startswith(MATHJAX_FONT_PROBE) or (
            text.startswith("Failed to load resource") and origin == "about:blank"
        ):
            return
        log["console"].append(f"{text} ({origin})")

    context.route("**/*", route)
    page = context.new_page()
    inflight = set()

    def failed(request):
        inflight.discard(request)
        if request.url != "about:blank":
            log["failed"].append(request.url)

    page.on("console", console)
    page.on("pageerror", lambda error: log["errors"].append(str(error)))
    page.on("request", lambda request: inflight.add(request))
    page.on("requestfinished", lambda request: inflight.discard(request))
    page.on("requestfailed", failed)
    page.goto(url, wait_until="load")
    if wait_math and page.evaluate("() => !!window.MathJax"):
        page.wait_for_function(
            "() => (window.MathJax && MathJax.isReady === true) || window.Reveal"
        )
        page.evaluate(MATHJAX_DONE_JS)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    wait_for_quiet(page, inflight, log)
    return page, log


def wait_for_quiet(page, inflight, log, *, quiet_ms=500, timeout_ms=TIMEOUT_MS):
    """Wait until no request has been in flight for ``quiet_ms`` (Playwright's own
    "networkidle" sometimes never fires for file:// pages on a busy machine)."""
    quiet_since = time.monotonic()
    deadline = time.monotonic() + timeout_ms / 1e3
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)  # lets Playwright deliver the request events
        if inflight:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1e3 >= quiet_ms:
            return
    log.setdefault("pending", []).extend(sorted(r.url for r in inflight))


def problems_of(log) -> dict:
    return {k: v for k, v in log.items() if v}


# --- Pure functions --------------------------------------------------------------------------


def code(source, *tags):
    return nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)} if tags else {})


def markdown(source, *tags, **metadata):
    meta = {"tags": list(tags)} if tags else {}
    meta.update(metadata)
    return nbformat.v4.new_markdown_cell(source, metadata=meta)


def test_check_cells_are_removed_and_solutions_folded_without_touching_the_input():
    cells = [code("assert x", "check"), code("y = 2", "solution"), markdown("Because.", "solution")]
    before = copy.deepcopy(cells)
    staged = [stage.stage_cell(c) for c in cells]
    assert staged[0].metadata.tags == ["check", "remove-cell"]
    assert staged[1].metadata.tags == ["solution", "hide-cell"]
    assert staged[1].metadata.mystnb["code_prompt_show"] == "Solution (code)"
    assert staged[2].source.startswith(":::{dropdown} Solution\n:class-container: solution")
    assert staged[2].source.rstrip().endswith("Because.\n:::")
    assert cells == before


def test_a_solution_that_holds_a_colon_fence_gets_a_longer_fence():
    staged = stage.stage_cell(markdown(":::{note}\nInner\n:::", "solution"))
    assert staged.source.startswith("::::{dropdown}") and staged.source.endswith("\n::::")


def test_cells_without_site_tags_are_copied_unchanged():
    cell = code("x = 1", "slide", "nbval-ignore-output")
    assert stage.stage_cell(cell) == cell


def test_a_raw_cell_tagged_solution_is_rejected_with_the_fix():
    cell = nbformat.v4.new_raw_cell("x", metadata={"tags": ["solution"]})
    with pytest.raises(ValueError, match="only Markdown and code cells can be solutions"):
        stage.stage_cell(cell)


def test_deck_speaker_notes_fold_and_skipped_code_hides_its_input():
    notes = markdown("Say this.", slideshow={"slide_type": "notes"})
    skipped = nbformat.v4.new_code_cell("x = 1", metadata={"slideshow": {"slide_type": "skip"}})
    assert stage.stage_cell(notes, "deck").source.startswith(":::{dropdown} Speaker notes")
    assert stage.stage_cell(skipped, "deck").metadata.tags == ["hide-input"]
    # In a lesson, slideshow metadata means nothing to the site.
    assert stage.stage_cell(notes, "lesson") == notes


def test_downloads_go_right_under_the_title_heading():
    nb = nbformat.v4.new_notebook(cells=[markdown("# Title\n\nIntro text."), code("x = 1")])
    d = stage.Download("Notebook", "downloads/notebooks/01_t.ipynb", Path("x"), "notebook")
    staged = stage.stage_notebook(nb, downloads=[d])
    assert [c.source.split("\n")[0] for c in staged.cells] == [
        "# Title",
        '<nav class="lesson-downloads" aria-label="Downloads">',
        "Intro text.",
        "x = 1",
    ]
    assert len({c.id for c in staged.cells}) == 4


def test_a_notebook_without_a_title_is_rejected():
    nb = nbformat.v4.new_notebook(cells=[markdown("No heading here.")])
    with pytest.raises(ValueError, match="no '# Title' heading"):
        stage.stage_notebook(nb)


@pytest.mark.parametrize(
    "text",
    [
        'import x from "https://cdn.example.org/x.js";',
        'await import("//cdn.example.org/x.js")',
        "fetch(`https://api.example.org/v1`)",
        'new Worker("https://cdn.example.org/w.js")',
        'xhr.open("GET", "https://api.example.org/")',
        'script.src = "https://cdn.example.org/x.js"',
        "@import url(https://fonts.googleapis.com/css?family=Lato);",
        '@font-face { src: url("https://fonts.gstatic.com/x.woff2") }',
        'el.innerHTML = "<style>@import \\"https://fonts.example/x.css\\";</style>"',
    ],
)
def test_remote_requests_in_scripts_and_styles_are_found(text):
    assert checks.find_remote_script_requests(text)


@pytest.mark.parametrize(
    "text",
    [
        "// see https://example.org/docs for the API",
        'const help = "Report bugs at https://example.org/issues";',
        'a.href = "https://example.org/"',
        "background: url(../img/x.png)",
        'fetch("searchindex.js")',
    ],
)
def test_urls_that_are_only_mentioned_are_not_requests(text):
    assert checks.find_remote_script_requests(text) == []


def test_broken_links_and_anchors_are_reported(tmp_path):
    (tmp_path / "a.html").write_text(
        '<h2 id="s">S</h2><a href="#s">ok</a><a href="b.html">ok</a><a href="#">top</a>'
        '<a href="missing.html">x</a><a href="b.html#nowhere">y</a><img src="img/none.png">'
        '<a href="https://example.org/">external</a><a href="../outside.html">z</a>'
    )
    (tmp_path / "b.html").write_text('<p id="here">b</p>')
    assert checks.find_broken_links(tmp_path) == [
        "a.html: missing.html (no file missing.html)",
        'a.html: b.html#nowhere (no id "nowhere" in b.html)',
        "a.html: img/none.png (no file img/none.png)",
        "a.html: ../outside.html (outside the site)",
    ]


def test_missing_downloads_or_notebooks_are_named_before_anything_is_built(tmp_path):
    out = tmp_path / "site"
    with pytest.raises(FileNotFoundError, match=r"missing .*01_pooling\.ipynb; write the student"):
        build.build_site(COURSE, out, notebooks=COURSE.lessons[:1], student_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="produce it with `course run 01_pooling`"):
        build.build_site(COURSE, out, notebooks=COURSE.lessons[:1], executed_dir=tmp_path)
    assert not out.exists()


def test_the_server_only_binds_loopback_and_needs_a_built_site(tmp_path):
    with pytest.raises(ValueError, match="build the site first"):
        serve.make_server(tmp_path)
    (tmp_path / "index.html").write_text("<p>hi</p>")
    with pytest.raises(ValueError, match="is not a loopback address"):
        serve.make_server(tmp_path, 0, host="0.0.0.0")


# --- The build -------------------------------------------------------------------------------


def test_the_build_writes_one_page_per_notebook_and_leaves_the_notebooks_alone(built):
    assert {nb.name for nb in COURSE.notebooks} | {"index", "search", "genindex"} == {
        p.stem for p in built.glob("*.html")
    }
    for nb in COURSE.notebooks:  # the downloadable notebook is the course's file, byte for byte
        copied = built / build.NOTEBOOKS_HREF / f"{nb.name}.ipynb"
        assert copied.read_bytes() == nb.committed.read_bytes()
    # The staged copies live in the work folder, never beside the course notebooks.
    assert not list((COURSE.root / "notebooks").glob("*.md"))


def test_no_file_of_the_site_refers_to_another_host(built):
    assert checks.find_remote_requests(built) == {}
    # The scan covered the theme's and MathJax's files, not just the pages.
    scanned = [p for p in built.rglob("*") if p.suffix in (".css", ".js")]
    assert any("pydata-sphinx-theme" in p.name for p in scanned)
    assert any(p.name == "MathJax.js" for p in scanned)


def test_every_internal_link_and_anchor_of_every_page_resolves(built):
    pages = list(built.glob("*.html"))
    assert checks.find_broken_links(built, pages) == []
    n_links = sum(len(checks._collect(p.resolve(), {}).urls) for p in pages)
    assert n_links > 500  # every page's links were read (sidebar, ToC, downloads, anchors)


def _section(html_text: str, start: str, end: str) -> str:
    i = html_text.index(start)
    return html_text[i : html_text.index(end, i)]


def test_every_page_has_the_sidebar_previous_next_links_and_a_table_of_contents(built):
    order = ["index"] + [nb.name for nb in COURSE.decks + COURSE.lessons]
    for i, name in enumerate(order):
        text = (built / f"{name}.html").read_text(encoding="utf-8")
        sidebar = _section(text, 'class="bd-sidebar-primary', 'id="main-content"')
        linked = set(re.findall(r'class="(?:current )?reference internal" href="([^"]+)"', sidebar))
        others = {f"{n}.html" for n in order if n != name}
        assert others <= linked, (name, others - linked)
        footer = _section(text, 'class="prev-next-area"', "</footer>")
        prev = re.search(r'class="left-prev"\s+href="([^"]+)"', footer)
        nxt = re.search(r'class="right-next"\s+href="([^"]+)"', footer)
        assert (prev and prev[1]) == (f"{order[i - 1]}.html" if i > 0 else None), name
        assert (nxt and nxt[1]) == (f"{order[i + 1]}.html" if i + 1 < len(order) else None), name
    for notebook in COURSE.notebooks:  # every level-2 heading is in the page's ToC
        headings = [
            line[3:].strip()
            for cell in nbformat.read(notebook.committed, as_version=4).cells
            if cell.cell_type == "markdown" and not has_tag(cell, SOLUTION_TAG)
            for line in cell.source.splitlines()
            if line.startswith("## ")
        ]
        text = (built / f"{notebook.name}.html").read_text(encoding="utf-8")
        toc = _section(text, 'id="pst-page-toc-nav"', "</nav>")
        entries = re.findall(r'<a class="reference internal nav-link" href="#[^"]+">(.*?)</a>', toc)
        plain = [re.sub(r"<[^>]+>", "", e) for e in entries]
        # Compare the words before any math (the ToC shows typeset math, not its source).
        starts = {h: re.sub(r"[`*]", "", h.split("$")[0])[:20] for h in headings}
        missing = [h for h in headings if not any(starts[h] in p for p in plain)]
        assert headings and missing == [], (notebook.name, missing)


def _inject(notebook: Path, target: Path, html: str) -> Path:
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(html))
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://cdn.example.org/tracker.js"></script>',
        "<style>@import url(https://fonts.googleapis.com/css?family=Lato);</style>",
    ],
)
def test_a_page_that_loads_a_remote_file_fails_the_build(tmp_path, html):
    lesson = COURSE.lessons[-1]
    executed = tmp_path / "executed"
    _inject(lesson.committed, lesson.executed(executed), html)
    out, work = tmp_path / "site", tmp_path / "work"
    args = {"notebooks": [lesson], "executed_dir": executed, "work_dir": work}
    with pytest.raises(RuntimeError, match=rf"would request other hosts(.|\n)*{lesson.name}"):
        build.build_site(COURSE, out, report=lambda line: None, **args)
    assert not out.exists()  # a rejected site never replaces the output folder
    # Control: the same notebook with a link (not a request) to the same host builds.
    _inject(lesson.committed, lesson.executed(executed), '<a href="https://cdn.example.org/">a</a>')
    build.build_site(COURSE, out, report=lambda line: None, **args)
    assert (out / "index.html").is_file()


PAGE_STATE_JS = """() => {
    const math = Array.from(document.querySelectorAll('.math.notranslate'));
    const typeset = math.filter((el) => el.querySelector('script[type^="math/tex"]')
        && el.querySelector('.MathJax, .MathJax_Display'));
    // In the article (the print-only table of contents repeats headings' math, hidden);
    // a formula inside a folded solution has no size until it is opened.
    const visible = typeset.filter((el) => el.closest('article.bd-article')
        && !el.closest('details:not([open])'));
    const flat = visible.filter((el) =>
        el.querySelector('.MathJax, .MathJax_Display').getBoundingClientRect().width === 0);
    // Dollar signs left in the prose mean that Markdown math was not recognised.
    const article = document.querySelector('article.bd-article');
    const walker = article ? document.createTreeWalker(article, NodeFilter.SHOW_TEXT) : null;
    const dollars = [];
    while (walker && walker.nextNode()) {
        const node = walker.currentNode;
        if (node.textContent.includes('$')
            && !node.parentElement.closest('pre, code, script, .math, .cell_output, style')) {
            dollars.push(node.textContent.trim().slice(0, 60));
        }
    }
    const imgs = Array.from(document.querySelectorAll('img'));
    const root = document.documentElement;
    return {
        math: math.length, typeset: typeset.length, flat: flat.length, dollars: dollars,
        errors: document.querySelectorAll('.MathJax_Error').length,
        imgs: imgs.length,
        undecoded: imgs.filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src),
        widths: [root.scrollWidth, root.clientWidth, document.body.scrollWidth,
                 document.body.clientWidth],
    };
}"""


def load_all(browser, pages, url_of, allowed, width):
    """Open each page once; record its request log and its state (math, images, widths)."""
    results = {}
    for path in pages:
        page, log = open_page(browser, url_of(path), allowed=allowed, width=width, height=844)
        state = page.evaluate(PAGE_STATE_JS)
        state["untypeset"] = page.evaluate(UNTYPESET_MATH_JS)
        state["text"] = page.evaluate(
            "() => document.querySelector('article.bd-article')?.innerText || ''"
        )
        results[path.name] = {"problems": problems_of(log), **state}
        page.context.close()
    return results


@pytest.fixture(scope="session")
def from_disk(built, browser):
    return load_all(browser, site_pages(built), Path.as_uri, LOCAL, 1280)


@pytest.fixture(scope="session")
def on_a_phone(built, server, browser):
    pages = sorted(built.glob("*.html"))
    return load_all(browser, pages, lambda p: f"{server}/{p.name}", (server, "data:"), 390)


@pytest.mark.browser
def test_every_page_loads_with_no_remote_request_and_no_javascript_error(from_disk, on_a_phone):
    assert len(from_disk) == 2 * len(COURSE.notebooks) + 3  # pages, decks, index/search/genindex
    for results in (from_disk, on_a_phone):
        assert {name: r["problems"] for name, r in results.items() if r["problems"]} == {}


@pytest.mark.browser
def test_math_is_typeset_on_every_page(built, from_disk):
    for name in sorted(p.name for p in built.glob("[0-9][0-9]_*.html")):
        n_math = (
            (built / name).read_text(encoding="utf-8").count('class="math notranslate nohighlight"')
        )
        r = from_disk[name]
        assert r["untypeset"] == [] and r["errors"] == 0, (name, r)
        assert r["math"] == r["typeset"] == n_math > 0, (name, r)
        assert r["flat"] == 0, (name, r)
        assert r["dollars"] == [], (name, r["dollars"])


@pytest.mark.browser
def test_every_image_of_every_page_has_decoded(from_disk):
    assert {n: r["undecoded"] for n, r in from_disk.items() if r["undecoded"]} == {}
    assert all(r["imgs"] > 0 for n, r in from_disk.items() if n[:2].isdigit()), from_disk


def test_every_figure_of_a_notebook_is_on_its_page(built):
    for notebook in COURSE.notebooks:
        nb = nbformat.read(notebook.committed, as_version=4)
        figures = sum(
            1
            for cell in nb.cells
            if cell.cell_type == "code" and not has_tag(cell, CHECK_TAG)
            for out in cell.outputs
            if {"image/png", "image/svg+xml"} & set(out.get("data", {}))
        )
        page = (built / f"{notebook.name}.html").read_text(encoding="utf-8")
        article = page[page.index('<article class="bd-article">') :]
        assert article.count("<img ") == figures, notebook.name


@pytest.mark.browser
@pytest.mark.parametrize("via", ["file", "http"])
def test_search_for_shrinkage_finds_the_lessons_that_teach_it(built, server, browser, via):
    # Expected: the lessons whose prose (Markdown cells) mentions shrinkage, read from the
    # notebooks themselves, not from the site.
    teaching = {
        nb.name
        for nb in COURSE.lessons
        for cell in nbformat.read(nb.committed, as_version=4).cells
        if cell.cell_type == "markdown" and "shrinkage" in cell.source.lower()
    }
    assert {"01_pooling", "02_chemical_shifts", "03_water_quality"} <= teaching
    base = (built / "search.html").as_uri() if via == "file" else f"{server}/search.html"
    allowed = LOCAL if via == "file" else (server, "data:")
    found = {}
    for query in ("shrinkage", "qwzxvbnmpl"):
        page, log = open_page(browser, f"{base}?q={query}", allowed=allowed, wait_math=False)
        page.wait_for_function(
            "() => /Search finished|did not match/.test("
            "document.querySelector('#search-results .search-summary')?.innerText || '')",
            timeout=TIMEOUT_MS,
        )
        hrefs = page.eval_on_selector_all(
            "#search-results ul.search li > a", "els => els.map((a) => a.getAttribute('href'))"
        )
        found[query] = {re.sub(r"\.html.*$", "", h) for h in hrefs}
        assert problems_of(log) == {}, (query, problems_of(log))
        page.context.close()
    assert teaching <= found["shrinkage"]
    assert found["qwzxvbnmpl"] == set()


@pytest.mark.browser
def test_a_solution_opens_on_click_and_a_check_cell_is_not_shown(built, server, browser):
    lesson = COURSE.lessons[0]
    page, _ = open_page(browser, f"{server}/{lesson.name}.html", allowed=(server, "data:"))
    for details, content in (
        ("details.sd-dropdown.solution", ".sd-summary-content"),
        ("div.cell.tag_solution details.hide", ".cell_input"),
    ):
        dropdown = page.locator(details).first
        body = dropdown.locator(content).first
        assert dropdown.count() == 1 and not body.is_visible(), details
        dropdown.locator("summary").first.click()
        body.wait_for(state="visible", timeout=30_000)
        assert dropdown.evaluate("el => el.open") is True
    page.context.close()
    cells = nbformat.read(lesson.committed, as_version=4).cells
    # Solutions that only check (tagged check too) are removed like every check cell.
    n_solutions = sum(has_tag(c, SOLUTION_TAG) and not has_tag(c, CHECK_TAG) for c in cells)
    html_text = (built / f"{lesson.name}.html").read_text(encoding="utf-8")
    folded = html_text.count("sd-dropdown sd-card sd-mb-3 solution") + html_text.count(
        'class="cell tag_solution tag_hide-cell'
    )
    assert folded == n_solutions


@pytest.mark.browser
def test_check_only_cells_are_not_shown_and_other_code_is(from_disk):
    n_checks = 0
    for notebook in COURSE.lessons:
        text = from_disk[f"{notebook.name}.html"]["text"]
        for cell in nbformat.read(notebook.committed, as_version=4).cells:
            lines = [ln.strip() for ln in cell.source.splitlines() if ln.strip()]
            if cell.cell_type != "code" or not lines or has_tag(cell, SOLUTION_TAG):
                continue
            is_check = has_tag(cell, CHECK_TAG)
            n_checks += is_check
            assert (lines[0] in text) is not is_check, (notebook.name, lines[0])
    assert n_checks > 0, "the lessons tag their check-only cells"


def test_each_page_links_to_its_notebook_student_edition_and_slides(built, downloads):
    for nb in COURSE.notebooks:
        kinds = ["notebook", "slides-html", "slides-pdf"] + (
            ["student"] if nb.kind == "lesson" else []
        )
        sources = {
            "notebook": nb.committed,
            "student": downloads["student"] / f"{nb.name}.ipynb",
            "slides-html": downloads["slides"] / f"{nb.name}.slides.html",
            "slides-pdf": downloads["slides"] / f"{nb.name}.pdf",
        }
        text = (built / f"{nb.name}.html").read_text(encoding="utf-8")
        links = dict(re.findall(r'class="reference download ([\w-]+)" href="([^"]+)"', text))
        assert sorted(links) == sorted(kinds), nb.name
        for kind, href in links.items():
            assert (built / href).read_bytes() == sources[kind].read_bytes(), (nb.name, kind)
    # The HTML slides find their reveal.js and MathJax inside the site (reveal.js routes
    # with "#/n" fragments, which are not anchors).
    decks = sorted((built / checks.SLIDES_HREF).glob("*.slides.html"))
    assert len(decks) == len(COURSE.notebooks)
    assert [b for b in checks.find_broken_links(built, decks) if "#/" not in b] == []


def test_a_downloaded_notebook_and_the_slides_are_served(server):
    name = COURSE.lessons[0].name
    with urllib.request.urlopen(f"{server}/downloads/notebooks/{name}.ipynb") as response:
        assert json.load(response)["nbformat"] == 4
    with urllib.request.urlopen(f"{server}/slides/{name}.pdf") as response:
        assert response.read(5) == b"%PDF-"


@pytest.mark.browser
def test_no_page_scrolls_sideways_on_a_phone_or_a_laptop(on_a_phone, from_disk):
    assert len(on_a_phone) == len(COURSE.notebooks) + 3
    for results in (on_a_phone, from_disk):
        too_wide = {
            name: r["widths"]
            for name, r in results.items()
            if r["widths"][0] > r["widths"][1] or r["widths"][2] > r["widths"][3]
        }
        assert too_wide == {}


@pytest.mark.browser
def test_a_screenshot_of_a_lesson_page_is_taken(built, server, browser):
    # The README shows this screenshot (copied from build/screenshots/ into docs/images/).
    lesson = COURSE.lessons[0]
    target_dir = COURSE.build_dir / "screenshots"
    target_dir.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page, _ = open_page(
            browser,
            f"{server}/{lesson.name}.html",
            allowed=(server, "data:"),
            width=width,
            height=height,
        )
        heading = page.locator("h1").first.inner_text()
        target = target_dir / f"site_lesson_{width}px.png"
        page.screenshot(path=str(target))
        page.context.close()
        assert heading == f"{lesson.number} · {lesson.title}", f"{target.name} shows {heading!r}"
        with Image.open(target) as image:
            assert (image.format, image.size) == ("PNG", (width, height))
            pixels = np.asarray(image.convert("RGB"))
        # A blank, error or unstyled page is its background colour almost everywhere (over
        # 90%: a 404 page 98-99%, without the stylesheets 91-92%); the lesson page's sidebar,
        # heading, downloads box and text leave the background 70-80%, with ink in most rows.
        _, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
        background = counts.max() / counts.sum()
        assert background < 0.9, f"{target.name} is {background:.0%} one colour"
        inked_rows = (np.ptp(pixels, axis=(1, 2)) > 0).mean()
        assert inked_rows > 0.3, f"{target.name} has ink in {inked_rows:.0%} of its rows"
