"""Fixtures shared by the unit tests."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from course_utils import data


@pytest.fixture(autouse=True)
def _close_figures():
    """Close matplotlib figures after each test so memory does not grow."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def external_files() -> dict[str, Path]:
    """Verified local copies of the external datasets (COURSE_DATA_DIR or the cache)."""
    return data.fetch_all()


@pytest.fixture()
def served_dir(tmp_path, external_files) -> Path:
    """A temporary copy of the external datasets, which tests may corrupt."""
    folder = tmp_path / "served"
    folder.mkdir()
    for name, path in external_files.items():
        shutil.copyfile(path, folder / name)
    return folder


@pytest.fixture()
def http_server(served_dir):
    """Serve ``served_dir`` over HTTP on the loopback interface; yields ``url(name)``."""
    folder = served_dir
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield lambda name: f"http://127.0.0.1:{server.server_port}/{name}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler that does not log every request to stderr."""

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass
