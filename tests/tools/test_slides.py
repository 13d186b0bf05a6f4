"""Slides: deck generation, offline assets, and the rendered decks in a real browser."""

from __future__ import annotations

import base64
import copy
import io
import re
import shutil
import subprocess

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from course_utils.tools import browser as offline
from course_utils.tools import cli, manifest
from course_utils.tools.notebook import HIDE_INPUT_TAG
from course_utils.tools.slides import browser as deck_browser
from course_utils.tools.slides import build, render

COURSE = manifest.load_course()
MAIN = COURSE.decks[0]
MAIN_DECK = MAIN.committed


def _slide(kind: str, **extra) -> dict:
    return {"slideshow": {"slide_type": kind}, **extra}


def _png() -> str:
    """A small non-blank PNG, base64-encoded as in a notebook output."""
    pixels = np.zeros((60, 90, 3), dtype=np.uint8)
    pixels[:, :45] = (200, 30, 30)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture()
def lesson() -> nbformat.NotebookNode:
    """An executed lesson notebook with four cells tagged for its short deck."""
    figure = new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"})
    log = new_output("stream", name="stderr", text="Sampling 4 chains took 3 seconds.\n")
    return new_notebook(
        cells=[
            new_markdown_cell("# Water quality\n\nLearning goals: ..."),
            new_markdown_cell(
                "## Question\n\nIs $\\theta_j$ the same?", metadata={"tags": ["slide"]}
            ),
            new_code_cell("import numpy as np", execution_count=1),
            new_code_cell(
                "with pm.Model() as model:\n    ...",
                execution_count=2,
                metadata={"tags": ["slide"]},
                outputs=[log],
            ),
            new_code_cell(
                "ax = plot_forest(idata)",
                execution_count=3,
                metadata={"tags": ["slide", "slide-hide-input", "nbval-ignore-output"]},
                outputs=[figure],
            ),
            new_markdown_cell("Not on a slide."),
            new_markdown_cell("## Lesson\n\nPartial pooling.", metadata={"tags": ["slide"]}),
        ],
        metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}},
    )


# --- Deck generation from tags (pure) ---------------------------------------------------------


def test_deck_has_a_title_slide_then_one_slide_per_tagged_cell(lesson):
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")

    assert deck.metadata["title"] == "Water quality"
    assert deck.cells[0].source.startswith("# Water quality")
    assert "03_water_quality.ipynb" in deck.cells[0].source
    assert [c.source for c in deck.cells[1:]] == [lesson.cells[i].source for i in (1, 3, 4, 6)]
    assert {c.metadata["slideshow"]["slide_type"] for c in deck.cells} == {"slide"}
    assert build.count_slides(deck) == 5
    nbformat.validate(deck)


def test_deck_keeps_outputs_and_hides_input_where_tagged(lesson):
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    model, figure = deck.cells[2], deck.cells[3]

    assert HIDE_INPUT_TAG in figure.metadata["tags"]
    assert HIDE_INPUT_TAG not in model.metadata["tags"]
    assert figure.outputs == lesson.cells[4].outputs


def test_deck_generation_does_not_modify_the_notebook(lesson):
    before = copy.deepcopy(lesson)
    build.deck_from_notebook(lesson, source_name="03_water_quality")
    assert lesson == before


def test_untagged_notebook_is_rejected_with_the_fix(lesson):
    for cell in lesson.cells:
        cell.metadata.pop("tags", None)
    with pytest.raises(ValueError, match="tag 3-6 cells"):
        build.deck_from_notebook(lesson, source_name="03_water_quality")


def test_unexecuted_hidden_input_cell_is_rejected(lesson):
    lesson.cells[4].outputs = []
    with pytest.raises(ValueError, match="cell 4 .* no output"):
        build.deck_from_notebook(lesson, source_name="03_water_quality")


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["skip", "notes", "-", "-", "slide"], 2),
        (["slide", "fragment", "subslide", "notes", "slide", "-"], 3),
        (["skip", "notes"], 0),
        (["-", "-"], 1),
    ],
)
def test_count_slides_follows_nbconvert(kinds, expected):
    nb = new_notebook(cells=[new_markdown_cell("x", metadata=_slide(k)) for k in kinds])
    assert build.count_slides(nb) == expected


def test_strip_stderr_keeps_other_outputs(lesson):
    stripped = build.strip_stderr(lesson)
    assert stripped.cells[3].outputs == []
    assert stripped.cells[4].outputs == lesson.cells[4].outputs
    assert lesson.cells[3].outputs  # the input is not modified


# --- Finding decks ----------------------------------------------------------------------------


def test_lecture_deck_skips_check_cells(lesson):
    lesson.cells[2].metadata["tags"] = ["check"]
    deck = build.lecture_deck(lesson)
    assert deck.cells[2].metadata["slideshow"] == {"slide_type": "skip"}
    assert "slideshow" not in lesson.cells[2].metadata, "the input is not modified"


def test_generated_slides_carry_stable_ids(lesson):
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    ids = [c.metadata["slideshow"]["data"]["id"] for c in deck.cells]
    assert ids == ["title", "question", "cell-3", "cell-4", "lesson"]
    lesson.cells[1].source = "## A reworded question"
    lesson.cells[1].metadata["slideshow"] = {"data": {"id": "question"}}
    reworded = build.deck_from_notebook(lesson, source_name="03_water_quality")
    assert reworded.cells[1].metadata["slideshow"]["data"]["id"] == "question"


def test_render_decks_lists_every_problem_before_rendering(course, tmp_path):
    with pytest.raises(ValueError, match="(?s)course run 00_talk.*course run 01_first"):
        render.render_decks(course.notebooks, tmp_path / "out", pdf=False, report=lambda _: None)
    assert not (tmp_path / "out").exists()


# --- Assets and offline HTML ------------------------------------------------------------------


def test_copy_assets_copies_what_the_template_loads(tmp_path):
    assets = render.copy_assets(tmp_path)
    for relative in (
        "reveal.js/dist/reveal.js",
        "reveal.js/dist/reveal.css",
        f"reveal.js/dist/theme/{render.REVEAL_THEME}.css",
        "reveal.js/plugin/notes/notes.js",
        "mathjax/MathJax.js",
        f"mathjax/config/{render.MATHJAX_CONFIG}.js",
    ):
        assert (assets / relative).is_file(), relative
    assert list((assets / "reveal.js/dist/theme/fonts").rglob("*.woff"))
    assert list((assets / "mathjax/fonts/HTML-CSS/STIX-Web").rglob("*.woff"))
    assert not (assets / "reveal.js/plugin/highlight").exists()  # unused plugins stay behind
    render.copy_assets(tmp_path)  # copying again replaces the previous copy


def test_theme_css_loads_no_remote_font():
    theme = render.asset_sources()["reveal.js"] / "dist" / "theme" / f"{render.REVEAL_THEME}.css"
    assert offline.find_remote_references(theme.read_text()) == []


def test_missing_asset_package_names_the_fix(monkeypatch):
    monkeypatch.setattr(render, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="pip install"):
        render.asset_sources()


@pytest.mark.parametrize(
    "text",
    [
        '<script src="https://cdn.example.org/reveal.js"></script>',
        "<img alt='x' src='//cdn.example.org/x.png'>",
        '<link rel="stylesheet" href="http://fonts.example.org/css">',
        "@import url(https://fonts.googleapis.com/css?family=Lato);",
        "import mermaid from 'https://cdn.example.org/mermaid.mjs';",
    ],
)
def test_find_remote_references_flags_what_a_browser_fetches(text):
    assert offline.find_remote_references(text)


def test_find_remote_references_ignores_links_and_local_files():
    text = (
        '<a href="https://doi.org/10.1/x">paper</a> <script src="_assets/reveal.js/dist/reveal.js">'
        '</script> <img src="data:image/png;base64,AAAA">'
    )
    assert offline.find_remote_references(text) == []


def test_render_html_is_offline_and_uses_the_tags(tmp_path, lesson):
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    html_path = render.render_html(deck, tmp_path / "deck.slides.html")
    text = html_path.read_text()

    assert offline.find_remote_references(text) == []
    for asset in ("_assets/reveal.js/dist/reveal.js", "_assets/mathjax/MathJax.js"):
        assert asset in text
    assert "<title>Water quality slides</title>" in text
    assert "plot_forest" not in text  # input hidden by slide-hide-input
    assert 'pm</span><span class="o">.</span><span class="n">Model' in text  # input shown
    assert "Sampling 4 chains" not in text  # sampler log dropped
    assert text.count('src="data:image/png;base64,') == 1
    assert "require.js" not in text and "jquery" not in text.lower()


def test_render_html_refuses_remote_resources(tmp_path, lesson):
    lesson.cells[1].source += '\n\n<img src="https://example.org/logo.png">'
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    with pytest.raises(RuntimeError, match="offline"):
        render.render_html(deck, tmp_path / "deck.slides.html")


# --- Chromium ---------------------------------------------------------------------------------


def test_find_chromium_prefers_the_environment_variable(tmp_path, monkeypatch):
    fake = tmp_path / "my-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(offline.CHROMIUM_ENV, str(fake))
    assert offline.find_chromium() == str(fake)


def test_find_chromium_rejects_a_wrong_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(offline.CHROMIUM_ENV, str(tmp_path / "nothing-here"))
    with pytest.raises(RuntimeError, match=offline.CHROMIUM_ENV):
        offline.find_chromium()


def test_missing_chromium_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(offline.CHROMIUM_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="apt-get install chromium"):
        offline.find_chromium()


def test_cli_fails_early_without_chromium(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(offline.CHROMIUM_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main(["slides", "00", "--out", str(tmp_path / "out")]) == 1
    assert "--no-pdf" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_renders_html_without_a_browser(tmp_path, capsys):
    assert cli.main(["slides", "00", "--no-pdf", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "00_hierarchical_models.slides.html").is_file()
    assert (tmp_path / "_assets" / "reveal.js" / "dist" / "reveal.js").is_file()
    assert "00_hierarchical_models.slides.html" in (tmp_path / "index.html").read_text()
    assert re.search(r"\[1/1\] 00_hierarchical_models: \d+ slides in", capsys.readouterr().out)


# --- The lessons ------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", COURSE.lessons, ids=lambda nb: nb.name)
def test_lesson_tags_three_to_six_slides(notebook):
    nb = nbformat.read(notebook.committed, as_version=4)
    deck = build.deck_from_notebook(nb, source_name=notebook.name)
    assert 3 <= len(deck.cells) - 1 <= 6, "tag 3-6 cells 'slide' (see CONTRIBUTING.md)"


# --- In a real browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """The system's headless Chromium, driven by Playwright."""
    with offline.launch_browser() as running:
        yield running


@pytest.fixture(scope="module")
def main_deck(tmp_path_factory, browser) -> render.RenderedDeck:
    """The main deck rendered to HTML and PDF in a fresh build folder."""
    out = tmp_path_factory.mktemp("slides")
    render.copy_assets(out)
    return render.render_deck(MAIN, out, browser=browser)


@pytest.fixture(scope="module")
def main_page(main_deck, browser):
    """The main deck opened from file:// with every request recorded."""
    page, log = deck_browser.open_deck(browser, main_deck.html.as_uri(), viewport=(1280, 800))
    yield page, log
    page.context.close()


def _go_to(page, slide_id: str) -> int:
    """Show the slide whose section carries ``data-id`` (its stable id in the deck source)."""
    index = page.evaluate(
        "(id) => Reveal.getSlides().findIndex((s) => s.dataset.id === id)", slide_id
    )
    assert index >= 0, f"no slide with id {slide_id!r}"
    page.evaluate("(i) => Reveal.slide(i)", index)
    page.wait_for_timeout(1000)  # slide transition and MathJax re-rendering
    page.evaluate(deck_browser.javascript("mathjax_done"))
    return index


@pytest.mark.browser
def test_main_deck_makes_no_remote_request(main_page):
    _, log = main_page
    assert log["requests"], "no request was recorded"
    remote = [u for u in log["requests"] if not u.startswith(offline.LOCAL_SCHEMES)]
    assert remote == [] and log["blocked"] == []
    assert log["failed"] == [], "a local asset is missing"
    assert log["errors"] == []


@pytest.mark.browser
def test_main_deck_has_the_expected_slides(main_page, main_deck):
    page, _ = main_page
    expected = build.count_slides(nbformat.read(MAIN_DECK, as_version=4))
    assert main_deck.n_slides == expected
    assert page.evaluate("() => Reveal.getTotalSlides()") == expected
    assert page.evaluate("() => document.querySelectorAll('.notes').length") >= 3


@pytest.mark.browser
def test_main_deck_math_is_typeset(main_page):
    page, _ = main_page
    _go_to(page, "three-ways")
    text = page.evaluate("() => Reveal.getCurrentSlide().innerText")
    assert "$$" not in text and "\\sim" not in text
    counts = page.evaluate(
        """() => ({
            display: document.querySelectorAll('.MathJax_Display').length,
            inline: document.querySelectorAll('.MathJax').length,
            errors: document.querySelectorAll('.MathJax_Error, merror').length,
        })"""
    )
    assert counts["display"] >= 3 and counts["inline"] >= 10 and counts["errors"] == 0
    assert "$$" not in page.evaluate("() => document.querySelector('.slides').innerText")


@pytest.mark.browser
def test_main_deck_figure_slide_is_not_blank(main_page, tmp_path):
    page, _ = main_page
    _go_to(page, "shrinkage-figure")
    image = page.locator("section.present img").first
    assert image.evaluate("(img) => img.complete && img.naturalWidth > 0")
    page.screenshot(path=tmp_path / "slide.png")
    pixels = np.asarray(Image.open(tmp_path / "slide.png").convert("L"), dtype=float)
    assert pixels.std() > 20, "the slide screenshot is (almost) uniform"
    assert (pixels < 128).mean() > 0.01, "too few dark pixels: the figure is not visible"


@pytest.mark.browser
def test_main_deck_code_is_visible(main_page):
    page, _ = main_page
    _go_to(page, "hierarchical-model")
    code = page.locator("section.present .jp-InputArea pre").first
    assert code.is_visible()
    assert "pm.Model(coords=coords) as hierarchical_model" in code.inner_text()


@pytest.mark.browser
def test_speaker_view_opens_and_follows_the_deck(main_page):
    page, _ = main_page
    page.evaluate("() => Reveal.slide(0)")
    with page.expect_popup() as popup_info:
        page.keyboard.press("s")
    popup = popup_info.value
    notes = popup.locator(".speaker-controls-notes")
    notes.wait_for(state="visible")
    popup.wait_for_function(
        "() => document.querySelector('.speaker-controls-notes').innerText.includes('speaker')"
    )
    first_notes = popup.locator(".speaker-controls-notes").inner_text()
    assert "speaker" in first_notes
    index = _go_to(page, "grouped-data")
    popup.wait_for_function(
        "() => document.querySelector('.speaker-controls-notes').innerText.includes('audience')"
    )
    assert "audience" in popup.locator(".speaker-controls-notes").inner_text()
    assert popup.locator(".speaker-controls-notes").inner_text() != first_notes
    # The speaker view shows the notes of the slide the deck is on. (Its slide iframe cannot
    # be read from a file:// page: Chromium gives file documents opaque origins.)
    assert page.evaluate("() => Reveal.getIndices().h") == index
    popup.close()


@pytest.mark.browser
def test_main_deck_slides_fit_the_page(main_deck, browser):
    page, log = deck_browser.open_deck(browser, main_deck.html.as_uri() + "?print-pdf")
    try:
        page.wait_for_selector(".pdf-page", state="attached")
        heights = page.evaluate(
            "() => [...document.querySelectorAll('.pdf-page > section')].map(s => s.scrollHeight)"
        )
    finally:
        page.context.close()
    assert len(heights) == main_deck.n_slides
    assert max(heights) <= render.SLIDE_HEIGHT, f"a slide overflows: heights {heights}"


@pytest.mark.browser
def test_pdf_handout_has_one_page_per_slide(main_deck):
    pdfinfo = shutil.which("pdfinfo")
    assert pdfinfo, "pdfinfo is missing: install poppler-utils (apt-get install poppler-utils)"
    info = subprocess.run([pdfinfo, str(main_deck.pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))
    assert pages == main_deck.n_slides


@pytest.mark.browser
def test_open_offline_blocks_and_records_remote_requests(tmp_path, lesson, browser):
    # Negative control: a remote image slipped into the HTML is refused and reported.
    render.copy_assets(tmp_path)
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    html_path = render.render_html(deck, tmp_path / "deck.slides.html")
    remote = "https://example.org/logo.png"
    html_path.write_text(html_path.read_text().replace("</main>", f'<img src="{remote}"></main>'))
    page, log = deck_browser.open_deck(browser, html_path.as_uri())
    page.context.close()
    assert remote in log["blocked"] and remote in log["requests"]
    with pytest.raises(RuntimeError, match="remote hosts"):
        deck_browser.render_pdf(html_path, tmp_path / "deck.pdf", browser=browser)


@pytest.mark.browser
def test_missing_assets_fail_with_the_fix(tmp_path, lesson, browser):
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    html_path = render.render_html(deck, tmp_path / "deck.slides.html")  # no _assets/
    with pytest.raises(RuntimeError, match="did not start"):
        deck_browser.open_deck(browser, html_path.as_uri(), timeout=5)


@pytest.mark.browser
def test_generated_deck_renders_offline(tmp_path, lesson, browser):
    render.copy_assets(tmp_path)
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    html_path = render.render_html(deck, tmp_path / "03_water_quality.slides.html")
    page, log = deck_browser.open_deck(browser, html_path.as_uri())
    try:
        assert page.evaluate("() => Reveal.getTotalSlides()") == 5
        assert log["blocked"] == [] and log["failed"] == [] and log["errors"] == []
        assert page.evaluate("() => document.querySelectorAll('.MathJax').length") >= 1
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("notebook", COURSE.lessons, ids=lambda nb: nb.name)
def test_lesson_deck_renders_offline(notebook, tmp_path, browser):
    render.copy_assets(tmp_path)
    rendered = render.render_deck(notebook, tmp_path, browser=browser)  # raises if not offline
    page, log = deck_browser.open_deck(browser, rendered.html.as_uri())
    try:
        assert page.evaluate("() => Reveal.getTotalSlides()") == rendered.n_slides
        assert log["errors"] == [] and log["failed"] == []
    finally:
        page.context.close()


# reveal.js's print view holds every slide outside the document for one animation frame while
# it builds the pages (only the stacks of vertical slides stay). Under load, MathJax could be
# half-way through a formula then. Provoke that: hold the layout until MathJax has started
# on a formula (at most 3 s), then keep the slides outside the document for 3 s.
SLOW_PRINT_LAYOUT_JS = """(() => {
    const frame = window.requestAnimationFrame.bind(window);
    const start = performance.now();
    const detached = () => document.querySelector('.reveal .slides')
        && !document.querySelector('.reveal .slides section:not(.stack)');
    const hold = (callback) => document.querySelector('.MathJax_Processing')
        || performance.now() - start > 3000 ? frame(callback) : setTimeout(() => hold(callback), 5);
    window.requestAnimationFrame = (callback) =>
        detached() ? setTimeout(() => frame(callback), 3000) : hold(callback);
})();"""


def _print_with_slow_layout(html_path, browser, monkeypatch):
    new_context = browser.new_context

    def slow_context(**kwargs):
        context = new_context(**kwargs)
        context.add_init_script(SLOW_PRINT_LAYOUT_JS)
        return context

    monkeypatch.setattr(browser, "new_context", slow_context)
    return deck_browser.render_pdf(html_path, html_path.with_suffix(".pdf"), browser=browser)


@pytest.mark.browser
def test_math_is_typeset_after_the_print_layout(tmp_path, lesson, browser, monkeypatch):
    # Under load, MathJax used to typeset while the print layout held the slides outside the
    # document: the formula then stayed hidden in the PDF. Provoked here on purpose.
    render.copy_assets(tmp_path)
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    html_path = render.render_html(deck, tmp_path / "deck.slides.html")
    pdf = _print_with_slow_layout(html_path, browser, monkeypatch)
    assert pdf.stat().st_size > 0


@pytest.mark.browser
def test_math_typeset_during_the_print_layout_is_caught(tmp_path, lesson, browser, monkeypatch):
    # Negative control: the deck without its wait for the print layout fails, naming the formula.
    render.copy_assets(tmp_path)
    deck = build.deck_from_notebook(lesson, source_name="03_water_quality")
    html_path = render.render_html(deck, tmp_path / "deck.slides.html")
    html = html_path.read_text()
    assert html.count("skipStartupTypeset: true") == 1
    html_path.write_text(html.replace("skipStartupTypeset: true", "skipStartupTypeset: false"))
    untypeset = r"deck.slides.html: 1 formula\(s\) not typeset.*theta_j"
    with pytest.raises(RuntimeError, match=untypeset):
        _print_with_slow_layout(html_path, browser, monkeypatch)


@pytest.mark.browser
def test_untypeset_math_is_a_clear_error(tmp_path, browser):
    # A formula left in its preview state (no MathJax on this page to finish it; a stand-in
    # for reveal.js, which open_offline waits for).
    page_path = tmp_path / "stuck.html"
    page_path.write_text(
        "<html><body><script>window.Reveal = {isReady: () => true};</script>"
        '<span class="MathJax_Preview">x^2</span><script type="math/tex">x^2</script>'
        "</body></html>"
    )
    page, _ = deck_browser.open_deck(browser, page_path.as_uri(), timeout=10)
    try:
        with pytest.raises(RuntimeError, match=r"stuck.html: 1 formula\(s\) not typeset.*x\^2"):
            deck_browser.check_math(page, "stuck.html")
    finally:
        page.context.close()
