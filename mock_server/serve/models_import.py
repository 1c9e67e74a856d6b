"""``shortapi-mock models import PAGE.md|URL``: a model page (the documentation's markdown,
as ``/api/skill/<model>`` serves it) made into a model file in a user models folder, which
``serve --models-dir``, ``models list --models-dir`` and the pytest plugin's
``--shortapi-models-dir`` load beside the shipped models."""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mock_server.catalog import from_catalog, pages, registry
from mock_server.errors import ConfigError
from mock_server.validation import rules

DEFAULT_DIR = "shortapi-models"
FETCH_TIMEOUT = 30.0  # seconds
MAX_PAGE = 2 * 1024 * 1024  # bytes


def add_parser(actions: Any) -> None:
    """Add ``models import`` to the ``models`` subparsers."""
    importing = actions.add_parser("import", help="make a model file from a model's page")
    importing.add_argument("page", metavar="PAGE.md|URL", help="a markdown file or an http(s) URL")
    importing.add_argument(
        "--models-dir",
        metavar="DIR",
        default=DEFAULT_DIR,
        help=f"the user models folder to write into (default: ./{DEFAULT_DIR})",
    )
    importing.add_argument("--force", action="store_true", help="overwrite an existing file")


def read_page(where: str) -> str:
    """Return the text of a page: a file, or an http(s) URL (raises `ConfigError`)."""
    if where.startswith(("http://", "https://")):
        request = urllib.request.Request(where, headers={"Accept": "text/markdown, text/plain"})
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
                return bytes(response.read(MAX_PAGE)).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ConfigError(f"cannot fetch {where}: {exc}") from None
    try:
        return Path(where).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {where}: {exc}") from None


def import_page(where: str, folder: Path, *, force: bool = False) -> tuple[Path, dict[str, Any]]:
    """Write the model file of the page at `where` into `folder`; return its path and content
    (raises `ConfigError`: unreadable page, existing file without `force`, invalid result)."""
    try:
        doc = pages.parse(read_page(where), source=where)
    except pages.PageError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    block = doc["x-shortapi"]
    path = folder / from_catalog.file_name(str(block["model"]))
    shipped = registry.SHIPPED.get(str(block["model"]))
    if shipped is not None and not block.get("rules"):
        # A page cannot say its cross-field rules: the shipped model's are kept (edit the
        # file's x-shortapi.rules to change them).
        block["rules"] = list(shipped.rules)
    if path.exists() and not force:
        raise ConfigError(f"{path} exists: pass --force to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    text = from_catalog.dumps(doc) + "\n"
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    try:
        registry.check_file(temporary, rules.RULES)
    except ConfigError:
        temporary.unlink()
        raise
    temporary.replace(path)
    return path, doc


def run(args: argparse.Namespace) -> int:
    """Import a page (``models import``); print what was written and what the page lacks."""
    try:
        path, doc = import_page(args.page, Path(args.models_dir), force=args.force)
    except ConfigError as exc:
        print(f"shortapi-mock: {exc}", file=sys.stderr)
        return 2
    block = doc["x-shortapi"]
    print(f"wrote {path}: {block['model']} ({block['category']}, {len(doc['properties'])} inputs)")
    if block["model"] in registry.SHIPPED:
        kept = ", ".join(block.get("rules") or ()) or "none"
        print(
            f"  warning: {block['model']} is a shipped model: this file replaces it where the "
            f"folder is loaded; the shipped cross-field rules are kept ({kept})",
            file=sys.stderr,
        )
    for note in str(block.get("notes") or "").split("; "):
        print(f"  cannot read: {note}" if note == pages.CANNOT_KNOW else f"  note: {note}")
    print(f"serve it: shortapi-mock serve --models-dir {args.models_dir}")
    return 0
