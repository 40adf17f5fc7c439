"""Great Expectations Data Docs that render offline.

GE's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs and
the logo from S3. Without the internet (and on many networks in China) a report is unstyled and
the index's table of validations stays empty, because bootstrap-table draws it. After GE writes
its pages, `make_offline` copies the vendored assets (`docs_static/`, see its README) into the
site and rewrites each new page's CDN references to relative paths, so the site also works
opened straight from disk (`file://`) or served from any folder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

VENDORED = Path(__file__).parent / "docs_static"
SITE_VENDOR = Path("static") / "vendor"

# CDN address in GE's templates → vendored file (relative to docs_static/)
ASSETS: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome-free-6.6.0/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/vega-embed.min.js",
}
# the optional dark theme is not vendored: its <link> is dropped
DROPPED_STYLESHEET = re.compile(r'<link[^>]*href="https://cdn\.jsdelivr\.net/npm/@forevolve/bootstrap-dark@[^"]*"[^>]*>')
# GE's logo from S3 (with a cache-busting ?d=…): GE ships the same image in static/images/
S3_LOGO = re.compile(r'https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/logo-long\.png(\?[^"]*)?')
REMOTE_ASSET = re.compile(r'<(?:script|link|img)\b[^>]*(?:src|href)="(https?://[^"]+)"')


def install_assets(site: Path) -> Path:
    """Copy the vendored assets into the site (again only when they changed)."""
    target = site / SITE_VENDOR
    for source in VENDORED.rglob("*"):
        if source.is_file():
            dest = target / source.relative_to(VENDORED)
            if not dest.exists() or dest.stat().st_size != source.stat().st_size:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, dest)
    return target


def localise_page(page: Path, site: Path) -> bool:
    """Point one page at the site's own copies; True when it changed."""
    html = page.read_text(encoding="utf-8")
    if "https://" not in html:
        return False
    to_site = Path(os.path.relpath(site, page.parent))
    new = DROPPED_STYLESHEET.sub("", html)
    for url, local in ASSETS.items():
        new = new.replace(f'"{url}"', f'"{(to_site / SITE_VENDOR / local).as_posix()}"')
    new = S3_LOGO.sub((to_site / "static" / "images" / "logo-long.png").as_posix(), new)
    if new == html:
        return False
    page.write_text(new, encoding="utf-8")
    return True


def make_offline(site: Path, since: float | None = None) -> int:
    """Localise every page of the site written at or after `since` (all pages when None)."""
    install_assets(site)
    pages = [p for p in site.rglob("*.html") if since is None or p.stat().st_mtime >= since]
    return sum(localise_page(page, site) for page in pages)


def remote_assets(page: Path) -> list[str]:
    """Scripts, stylesheets and images a page still loads from the internet."""
    return REMOTE_ASSET.findall(page.read_text(encoding="utf-8"))
