"""``GET /api/skill/<model_id>``: the model's documentation page, as the live API serves it.

The page is markdown rendered from the model file (`mock_server.catalog.pages.render`), so
``shortapi-mock models import`` reads it back into the same file. No key is asked for: the
live pages are public documentation (A-skill-page-format). An unknown model is a 404 in the
API's error envelope.
"""

from __future__ import annotations

import functools

from flask import Blueprint, Response

from mock_server.catalog import pages
from mock_server.catalog.registry import MODELS
from mock_server.data import schemas
from mock_server.errors import NOT_FOUND, ApiError

bp = Blueprint("skill", __name__)
CONTENT_TYPE = "text/markdown; charset=utf-8"


@functools.lru_cache(maxsize=256)
def page(model_id: str, schema: str) -> str:
    """Return the rendered page of a model (cached by model id and its file)."""
    return pages.render(schemas.load(schema))


@bp.get("/api/skill/<path:model_id>")
def skill(model_id: str) -> Response:
    """Answer the model's documentation page."""
    spec = MODELS.get(model_id)
    if spec is None:
        raise ApiError(404, NOT_FOUND, f"no model {model_id[:200]!r}: see GET /openapi.json")
    return Response(page(spec.id, spec.args_schema), content_type=CONTENT_TYPE)
