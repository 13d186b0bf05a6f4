"""Build the course website with Sphinx, MyST-NB and the book theme, without executing anything.

:func:`build_site` turns the executed notebooks of the course manifest (the committed ones,
or those of ``course run``) into a static site:

1. every notebook is staged (:mod:`course_utils.tools.site.stage`) into a work folder, with
   a home page and the table of contents;
2. Sphinx builds the HTML in this process (configuration and static files in ``theme/``);
   any warning is an error;
3. MathJax (from the ``jupyter-server-mathjax`` wheel, as for the slides), the notebooks, the
   student editions and the rendered slides are copied into the site;
4. the site is checked (:mod:`course_utils.tools.site.checks`): no file may request another
   host, and every internal link and anchor must resolve. Only a site that passes replaces
   ``out_dir``; a rejected one stays in the work folder for inspection.
"""

from __future__ import annotations

import io
import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course_utils.tools.manifest import Course, Notebook
from course_utils.tools.notebook import read_notebook
from course_utils.tools.site.checks import SLIDES_HREF, find_broken_links, find_remote_requests
from course_utils.tools.site.stage import (
    THEME_DIR,
    Download,
    Page,
    first_paragraph,
    home_page,
    stage_notebook,
)

__all__ = ["build_site", "lesson_downloads", "make_page", "stage_sources"]

NOTEBOOKS_HREF = "downloads/notebooks"
STUDENT_HREF = "downloads/student"
SLIDES_ASSETS = "_assets"
MATHJAX_HREF = "_static/mathjax"
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
_REVEAL_THEME = re.compile(r"reveal\.js/dist/theme/([\w-]+)\.css")


def lesson_downloads(
    notebook: Notebook,
    executed: Path,
    *,
    student_dir: Path | None = None,
    slides_dir: Path | None = None,
) -> tuple[Download, ...]:
    """List the downloads of one page and check that their files exist.

    Parameters
    ----------
    notebook : Notebook
        From the course manifest.
    executed : pathlib.Path
        The executed notebook (always offered).
    student_dir : pathlib.Path, optional
        Folder of student editions (``NN_topic.ipynb``); no link when ``None``. Decks have
        no student edition.
    slides_dir : pathlib.Path, optional
        Folder of rendered slides (``NN_topic.slides.html``, ``NN_topic.pdf`` and their
        ``_assets/``); no links when ``None``.

    Returns
    -------
    tuple of Download
        Notebook, student edition, slides (HTML), slides (PDF), as available.

    Raises
    ------
    FileNotFoundError
        If a folder is given but lacks the page's file, naming the command that makes it.

    Examples
    --------
    >>> nb = Notebook("01_a", "lesson", Path("notebooks/01_a.py"), "A")
    >>> [d.href for d in lesson_downloads(nb, Path("notebooks/01_a.ipynb"))]
    ['downloads/notebooks/01_a.ipynb']
    """
    name = notebook.name
    found = [
        Download(
            "Notebook with outputs (.ipynb)", f"{NOTEBOOKS_HREF}/{name}.ipynb", executed, "notebook"
        )
    ]
    wanted: list[tuple[Path, str, str, str, str]] = []
    if student_dir is not None and notebook.kind == "lesson":
        label = "Student edition, without solutions (.ipynb)"
        wanted.append((Path(student_dir), f"{name}.ipynb", label, STUDENT_HREF, "student"))
    if slides_dir is not None:
        wanted += [
            (Path(slides_dir), f"{name}.slides.html", "Slides (HTML)", SLIDES_HREF, "slides-html"),
            (Path(slides_dir), f"{name}.pdf", "Slides (PDF)", SLIDES_HREF, "slides-pdf"),
        ]
    missing = [str(folder / file) for folder, file, *_ in wanted if not (folder / file).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{name}: missing {', '.join(missing)}; write the student editions with `course "
            "student` and the slides with `course slides`, or build without those folders."
        )
    found += [
        Download(label, f"{href}/{file}", folder / file, css)
        for folder, file, label, href, css in wanted
    ]
    return tuple(found)


def make_page(
    notebook: Notebook,
    *,
    executed_dir: Path | None = None,
    student_dir: Path | None = None,
    slides_dir: Path | None = None,
) -> tuple[Page, NotebookNode]:
    """Read a notebook's executed copy and describe its page.

    Parameters
    ----------
    notebook : Notebook
        From the course manifest.
    executed_dir : pathlib.Path, optional
        Where to read the executed notebook (default: the committed one).
    student_dir, slides_dir : pathlib.Path, optional
        See :func:`lesson_downloads`.

    Returns
    -------
    page : Page
        Its description (titled ``NN · Title`` as in the manifest).
    notebook : nbformat.NotebookNode
        The executed notebook as read.

    Raises
    ------
    FileNotFoundError, ValueError
        If the executed notebook or a download is missing, or it was never executed.
    """
    path = notebook.executed(executed_dir)
    nb = read_notebook(path, command=f"course run {notebook.name}")
    downloads = lesson_downloads(notebook, path, student_dir=student_dir, slides_dir=slides_dir)
    title = f"{notebook.number} · {notebook.title}"
    return Page(notebook.name, title, notebook.kind, first_paragraph(nb), path, downloads), nb


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def stage_sources(
    pages: Sequence[Page], notebooks: Sequence[NotebookNode], src: Path, *, title: str
) -> None:
    """Write the staged notebooks and the home page into Sphinx's source folder.

    Files whose content did not change are left alone, so that Sphinx rebuilds only what
    changed; sources of pages no longer built are removed.

    Parameters
    ----------
    pages : sequence of Page
        Pages in course order.
    notebooks : sequence of nbformat.NotebookNode
        Their notebooks, as read.
    src : pathlib.Path
        Sphinx's source folder (created).
    title : str
        The site's title.

    Examples
    --------
    >>> import tempfile
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Sums")])
    >>> page = Page("01_sums", "01 · Sums", "lesson", "", Path("01_sums.ipynb"), ())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     stage_sources([page], [nb], Path(tmp) / "src", title="A course")
    ...     sorted(p.name for p in (Path(tmp) / "src").iterdir())
    ['01_sums.ipynb', 'index.md']
    """
    src.mkdir(parents=True, exist_ok=True)
    keep = {"index.md"} | {f"{p.name}.ipynb" for p in pages}
    for old in src.iterdir():
        if old.name not in keep:
            old.unlink() if old.is_file() else shutil.rmtree(old)
    for page, nb in zip(pages, notebooks, strict=True):
        staged = stage_notebook(nb, kind=page.kind, downloads=page.downloads, title=page.title)
        _write_if_changed(src / f"{page.name}.ipynb", nbformat.writes(staged) + "\n")
    _write_if_changed(src / "index.md", home_page(pages, title=title))


def _run_sphinx(src: Path, html_dir: Path, doctrees: Path, overrides: dict) -> str:
    """Build HTML with Sphinx in this process; any warning is an error."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    status, warnings = io.StringIO(), io.StringIO()
    try:
        with patch_docutils(THEME_DIR), docutils_namespace():
            app = Sphinx(
                str(src),
                str(THEME_DIR),
                str(html_dir),
                str(doctrees),
                "html",
                confoverrides=dict(overrides),
                status=status,
                warning=warnings,
                freshenv=False,
                parallel=0,
            )
            app.build()
    except Exception as err:  # Sphinx raises many kinds; all mean the site is not built
        warned = _ANSI_COLOUR.sub("", warnings.getvalue())
        raise RuntimeError(
            f"Sphinx failed: {err}\n{warned}\nFix the notebook or the site configuration above."
        ) from err
    warned = _ANSI_COLOUR.sub("", warnings.getvalue()).strip()
    if warned:
        raise RuntimeError(f"Sphinx warned (warnings are errors for the course site):\n{warned}")
    return status.getvalue()


def _unused_reveal_themes(decks: Iterable[Path]) -> Callable[[str, list[str]], set[str]]:
    """Return a ``copytree`` ignore function that keeps only the reveal.js themes decks use.

    reveal.js ships a dozen themes, several of which import fonts from a remote host.
    """
    used = set()
    for deck in decks:
        used |= set(_REVEAL_THEME.findall(Path(deck).read_text(encoding="utf-8")))

    def ignore(folder: str, names: list[str]) -> set[str]:
        if Path(folder).name != "theme" or Path(folder).parent.name != "dist":
            return set()
        return {n for n in names if n.endswith(".css") and n.removesuffix(".css") not in used}

    return ignore


def _copy_downloads(pages: Sequence[Page], site: Path, slides_dir: Path | None) -> None:
    """Copy every page's downloads into the site, and the slides' assets beside them."""
    for page in pages:
        for download in page.downloads:
            target = site / download.href
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(download.source, target)
    decks = [d.source for p in pages for d in p.downloads if d.kind == "slides-html"]
    if decks and slides_dir is not None:
        assets = Path(slides_dir) / SLIDES_ASSETS
        if not assets.is_dir():
            raise FileNotFoundError(
                f"{assets} is missing: the HTML slides need it; render them with `course slides`."
            )
        shutil.copytree(
            assets,
            site / SLIDES_HREF / SLIDES_ASSETS,
            ignore=_unused_reveal_themes(decks),
            dirs_exist_ok=True,
        )


def _check(site: Path) -> None:
    remote = find_remote_requests(site)
    if remote:
        listing = "\n".join(f"- {f}: {hits[:3]}" for f, hits in remote.items())
        raise RuntimeError(
            f"the site would request other hosts (it must work offline), see {site}:\n{listing}\n"
            "Remove the remote reference from the notebook, or ship the file in the site theme."
        )
    broken = find_broken_links(site)
    if broken:
        raise RuntimeError(
            f"{len(broken)} broken internal link(s) in {site}:\n- " + "\n- ".join(broken[:20])
        )


def build_site(
    course: Course,
    out_dir: Path,
    *,
    notebooks: Sequence[Notebook] | None = None,
    executed_dir: Path | None = None,
    student_dir: Path | None = None,
    slides_dir: Path | None = None,
    work_dir: Path | None = None,
    report: Callable[[str], None] = print,
) -> Path:
    """Build the course website from executed notebooks, without executing them.

    Parameters
    ----------
    course : Course
        The course (its title, and its notebooks in course order).
    out_dir : pathlib.Path
        Where the site goes (replaced only once the new site passed its checks).
    notebooks : sequence of Notebook, optional
        The pages, in order (default: every notebook of the course, decks first).
    executed_dir : pathlib.Path, optional
        Read the executed notebooks from this folder (``course run`` writes
        ``build/executed/``) instead of the committed ones.
    student_dir : pathlib.Path, optional
        Folder of student editions (``course student`` writes ``build/student``).
    slides_dir : pathlib.Path, optional
        Folder of rendered slides (``course slides`` writes ``build/slides``).
    work_dir : pathlib.Path, optional
        Scratch folder for the staged sources and Sphinx's caches (default:
        ``<out_dir>.work`` beside ``out_dir``); kept between builds, so that a rebuild
        only re-renders what changed.
    report : callable, default print
        Receives progress lines.

    Returns
    -------
    pathlib.Path
        The home page, ``out_dir/index.html``.

    Raises
    ------
    FileNotFoundError, ValueError
        If a notebook or download is missing or unexecuted (the message names the fix).
    RuntimeError
        If Sphinx warns, a page would request another host, or a link is broken.
    """
    from course_utils.tools.slides.render import asset_sources

    start = time.perf_counter()
    notebooks = list(course.notebooks if notebooks is None else notebooks)
    if not notebooks:
        raise ValueError("no notebook to build a site from: check course.toml.")
    out_dir = Path(out_dir)
    work_dir = Path(work_dir) if work_dir is not None else out_dir.with_name(out_dir.name + ".work")
    read = [
        make_page(nb, executed_dir=executed_dir, student_dir=student_dir, slides_dir=slides_dir)
        for nb in sorted(notebooks, key=lambda nb: nb.kind != "deck")
    ]
    pages = [page for page, _ in read]
    stage_sources(pages, [nb for _, nb in read], work_dir / "src", title=course.title)
    report(f"staged {len(pages)} notebooks in {work_dir / 'src'}")

    html_dir = work_dir / "html"
    overrides = {"project": course.title, "html_title": course.title}
    _run_sphinx(work_dir / "src", html_dir, work_dir / "doctrees", overrides)
    report(f"Sphinx built {len(pages) + 1} pages in {time.perf_counter() - start:.1f} s")

    site = work_dir / "site"
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(html_dir, site, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
    shutil.copytree(asset_sources()["mathjax"], site / MATHJAX_HREF)
    _copy_downloads(pages, site, slides_dir)
    _check(site)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(site, out_dir)
    size = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file())
    report(f"site: {out_dir} ({size / 2**20:.1f} MiB) in {time.perf_counter() - start:.1f} s")
    return out_dir / "index.html"
