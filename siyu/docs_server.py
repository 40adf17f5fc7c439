"""`siyu docs`: the warehouse's reports over HTTP, so the links in the Dagster UI open.

Browsers refuse `file://` links from an `http://` page such as the Dagster UI, so the quality
reports, the dbt docs site and the dashboard are served from one small local web server, and the
UI's metadata links point at it (`SIYU_DOCS_URL`, default http://127.0.0.1:8580). Only those three
folders are served: the DuckDB files, logs and Dagster's storage beside them are not reachable.
"""

from __future__ import annotations

import functools
import os
import posixpath
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from .settings import Settings

DEFAULT_PORT = 8580
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


def docs_url() -> str:
    return os.environ.get("SIYU_DOCS_URL", DEFAULT_URL).rstrip("/")


def served_folders(published: Path, quality_docs: Path) -> dict[str, Path]:
    """URL prefix → folder: the only things `siyu docs` serves (beside the published file, and the quality docs)."""
    return {"quality": Path(quality_docs),
            "dbt": Path(published).parent / "dbt_docs",
            "dashboard": Path(published).parent / "dashboard"}


def url_for(path: Path, folders: dict[str, Path]) -> str | None:
    """The `siyu docs` address of a report file, or None when it lies outside the served folders."""
    resolved = Path(path).resolve()
    for prefix, folder in folders.items():
        if resolved.is_relative_to(folder.resolve()):
            relative = resolved.relative_to(folder.resolve()).as_posix()
            return f"{docs_url()}/{prefix}/{quote(relative)}"
    return None


def _index_page(folders: dict[str, Path]) -> bytes:
    entries = {"quality": ("Quality reports (Great Expectations Data Docs)", "index.html"),
               "dbt": ("dbt docs: models, columns, lineage", "index.html"),
               "dashboard": ("Operator dashboard (运营看板)", "index.html")}
    items = "".join(f'<li><a href="/{prefix}/{page}">{title}</a></li>' if (folders[prefix] / page).exists()
                    else f"<li>{title}: not built yet (run siyu build)</li>"
                    for prefix, (title, page) in entries.items())
    return (f"<!doctype html><meta charset='utf-8'><title>siyu reports</title>"
            f"<h1>siyu reports</h1><ul>{items}</ul>").encode()


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, folders: dict[str, Path], **kwargs):
        self.folders = folders
        super().__init__(*args, directory=str(Path.cwd()), **kwargs)

    def translate_path(self, path: str) -> str:
        # /<prefix>/<relative path> inside one served folder; anything else maps to a path that does not exist
        parts = [p for p in posixpath.normpath(unquote(urlsplit(path).path)).split("/") if p not in ("", ".", "..")]
        if not parts or parts[0] not in self.folders:
            return "/nonexistent/siyu-docs"
        folder = self.folders[parts[0]].resolve()
        target = folder.joinpath(*parts[1:]).resolve()
        return str(target) if target.is_relative_to(folder) else "/nonexistent/siyu-docs"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if urlsplit(self.path).path in ("", "/"):
            body = _index_page(self.folders)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def list_directory(self, path):  # no directory listings
        self.send_error(404)
        return None

    def log_message(self, format: str, *args) -> None:
        pass


def make_server(settings: Settings, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    handler = functools.partial(_Handler, folders=served_folders(settings.warehouse, settings.quality_docs_dir))
    return ThreadingHTTPServer((host, port), handler)


def serve(settings: Settings, host: str, port: int) -> int:
    server = make_server(settings, host, port)
    print(f"siyu docs: serving the quality reports, dbt docs and dashboard of {settings.warehouse.parent} "
          f"on http://{host}:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
