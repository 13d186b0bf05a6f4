"""Serve a built site on localhost, for a quick look (``course site --serve``)."""

from __future__ import annotations

import functools
import ipaddress
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["make_server", "serve"]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
        pass


def make_server(
    out_dir: Path, port: int = 8000, *, host: str = "127.0.0.1", quiet: bool = False
) -> ThreadingHTTPServer:
    """Create (without starting) an HTTP server for a built site, bound to localhost.

    Parameters
    ----------
    out_dir : pathlib.Path
        The built site.
    port : int, default 8000
        TCP port; 0 picks a free one (read it from ``server.server_address[1]``).
    host : str, default "127.0.0.1"
        Address to bind; only loopback addresses are accepted.
    quiet : bool, default False
        Do not log requests.

    Returns
    -------
    http.server.ThreadingHTTPServer
        Call ``serve_forever()`` (in a thread, for tests) and ``shutdown()``.

    Raises
    ------
    ValueError
        If the folder has no ``index.html`` or ``host`` is not a loopback address.

    Examples
    --------
    >>> make_server(Path("no/such/site"))
    Traceback (most recent call last):
    ...
    ValueError: no/such/site/index.html does not exist: build the site first (`course site`).
    """
    out_dir = Path(out_dir)
    if not (out_dir / "index.html").is_file():
        raise ValueError(
            f"{out_dir / 'index.html'} does not exist: build the site first (`course site`)."
        )
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"host {host!r} is not a loopback address: serve on 127.0.0.1.")
    handler = functools.partial(
        _QuietHandler if quiet else SimpleHTTPRequestHandler, directory=str(out_dir)
    )
    return ThreadingHTTPServer((host, port), handler)


def serve(out_dir: Path, port: int = 8000) -> None:
    """Serve a built site on ``http://127.0.0.1:<port>/`` until interrupted (Ctrl-C).

    Parameters
    ----------
    out_dir : pathlib.Path
        The built site.
    port : int, default 8000
        TCP port.

    Raises
    ------
    ValueError
        If the folder holds no built site.

    Examples
    --------
    >>> serve(Path("no/such/site"), 8000)
    Traceback (most recent call last):
    ...
    ValueError: no/such/site/index.html does not exist: build the site first (`course site`).
    """
    server = make_server(out_dir, port)
    print(f"Serving {out_dir} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
