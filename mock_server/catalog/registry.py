"""The registry of modelled models: one entry per model id.

Adding a model is one args schema file in ``schemas/models/`` plus one `ModelSpec` here
(its prices, the names of its cross-field rules, how its duration and aspect ratio are read).
A model names its rules; `mock_server.validation.rules.RULES` holds them, so the catalogue is
data and imports nothing of validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """What the mock knows about one model."""

    id: str
    args_schema: str  # a file under schemas/
    price_per_second: Mapping[str, Decimal]  # by mode
    default_mode: str
    default_duration: str
    rules: tuple[str, ...] = field(default_factory=tuple)  # names in validation.rules.RULES

    def duration(self, args: Mapping[str, Any]) -> int:
        """Return the requested video length in seconds."""
        return int(args.get("duration", self.default_duration))

    def aspect_ratio(self, args: Mapping[str, Any]) -> str:
        """Return the aspect ratio of the result video."""
        # Frame jobs take their ratio from the input image, which the mock does not
        # fetch: they get 16:9 (assumption A-result-mp4).
        if args.get("action") == "refer":
            return str(args.get("aspect_ratio", "16:9"))
        return "16:9"


KLING_O1_I2V = ModelSpec(
    id="kwaivgi/kling-o1/image-to-video",
    args_schema="models/kling-o1-image-to-video.args.json",
    price_per_second={"std": Decimal("0.075"), "pro": Decimal("0.1")},
    default_mode="pro",
    default_duration="5",
    rules=(
        "images_plus_elements_at_most_7",
        "duration_allowed_for_action",
        "aspect_ratio_only_with_refer",
        "frame_uses_first_two_images",
        "prompt_references_exist",
    ),
)

MODELS: dict[str, ModelSpec] = {spec.id: spec for spec in (KLING_O1_I2V,)}
