"""The shipped catalogue against the documented one (fixtures/catalog/models.json), the model
file format, the shared definitions, pricing with worked examples from the pages, the media
readers and the guess for unknown ids."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mock_server.catalog import pricing, registry
from mock_server.catalog.from_catalog import DEFS_FILE, KLING_DEFS, KLING_FILE, TYPES, served
from mock_server.catalog.registry import MODELS, SHIPPED
from mock_server.catalog.tables import AUDIO_ARGS
from mock_server.data import schemas

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "schemas" / "models"
CATALOG = json.loads((ROOT / "fixtures" / "catalog" / "models.json").read_text())
SERVED = {entry["model"]: entry for entry in CATALOG if served(entry)}
FILES = registry.model_files(FOLDER)
# Inputs a page shows whose schema is not the plain type: image, video and audio inputs.
REF_TYPES = {"image_url": "string", "video_url": "string", "audio_url": "string"}


def document(model: str) -> dict[str, Any]:
    return schemas.load(SHIPPED[model].args_schema)


# In the catalogue without a page: served from what their public clients send (partial).
FROM_CLIENTS = {
    "vidu/vidu-q2/reference-to-video",
    "alibaba/wan-2.6/reference-to-video",
    "google/nano-banana-pro/edit",
    "suno/suno-v5.5/generate",
}


def test_every_model_of_the_catalogue_is_shipped_and_no_other() -> None:
    assert len(SERVED) == 56
    assert set(SHIPPED) == set(SERVED) | FROM_CLIENTS
    assert {e["model"] for e in CATALOG} - set(SERVED) == FROM_CLIENTS


@pytest.mark.parametrize("model", sorted(FROM_CLIENTS))
def test_model_without_a_page_is_partial_with_what_clients_send(model: str) -> None:
    entry = next(e for e in CATALOG if e["model"] == model)
    spec, doc = SHIPPED[model], document(model)
    assert not spec.complete and "additionalProperties" not in doc
    assert spec.output == registry.guess_output(model)  # the kind its id says
    assert {i["name"] for i in entry["inputs"]} <= spec.properties  # what the catalogue has
    assert doc["x-shortapi"]["cut_note"] and spec.sources
    assert spec.pricing["assumption"] == "A-unpriced-models"  # no page: no price known


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_model_file_conforms_to_the_model_file_schema(path: Path) -> None:
    doc = json.loads(path.read_text())
    schemas.validator("model-file.schema.json").validate(doc)
    Draft202012Validator.check_schema(doc)
    assert registry.check_file(path, known_rules=None).id == doc["x-shortapi"]["model"]


def test_shared_definitions_agree_with_kling_and_every_copy() -> None:
    shared = json.loads((FOLDER / DEFS_FILE).read_text())["$defs"]
    kling = json.loads((FOLDER / KLING_FILE).read_text())["$defs"]
    for name in KLING_DEFS:
        assert shared[name] == kling[name], f"{name}: run from_catalog --sync-defs"
    for path in FILES:
        for name, definition in json.loads(path.read_text()).get("$defs", {}).items():
            if name in shared:
                assert definition == shared[name], f"{path.name} {name}: run --sync-defs"


def test_every_named_rule_exists() -> None:
    from mock_server.validation.rules import RULES

    assert {r for spec in SHIPPED.values() for r in spec.rules} <= set(RULES)


def _typed(value: Any, kind: str | None) -> Any:
    return int(value) if kind == "int" else float(value) if kind == "float" else value


def _schema_of(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and len(node) <= 2:  # a property that is a ref (and a description)
        node = doc["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


@pytest.mark.parametrize("model", sorted(SERVED))
def test_model_agrees_with_the_catalogue(model: str) -> None:
    entry, spec, doc = SERVED[model], SHIPPED[model], document(model)
    assert spec.category == entry["category"]
    assert spec.complete is entry["complete"]
    assert spec.output == {"image": "images", "music": "musics"}.get(
        entry["category"].split("-")[-1], "videos"
    )
    assert (doc.get("additionalProperties") is False) is entry["complete"]
    for inp in entry["inputs"]:
        if inp.get("type") is None:  # a name cut by the page (style_image_u...)
            assert inp["name"] not in doc["properties"]
            continue
        name, kind = inp["name"], inp["type"]
        prop = _schema_of(doc, doc["properties"][name])
        assert (name in doc["required"]) is bool(inp.get("required")), name
        if "anyOf" in prop:  # motion-control's image: a URL or bare base64
            continue
        assert prop.get("type") == TYPES[kind], name
        if inp.get("default") is not None:
            assert prop["default"] == _typed(inp["default"], kind), name
        if inp.get("options") and kind != "bool":
            assert prop["enum"] == [_typed(o, kind) for o in inp["options"]], name
        elif (span := inp.get("range")) and kind == "string":
            assert prop["enum"][0] == str(span["min"]) and prop["enum"][-1] == str(span["max"])
        elif span:
            assert (prop["minimum"], prop["maximum"]) == (span["min"], span["max"]), name
        for key, keyword in (("max_length", "maxLength"), ("max_items", "maxItems")):
            if inp.get(key):
                assert prop[keyword] == inp[key], name


def _catalogue_rates(entry: dict[str, Any]) -> set[tuple[Any, ...]]:
    """The page's rates as (dimensions, prices), flattened here independently of the
    generator: a resolution x duration table is one rate per cell."""
    out = set()
    for rate in entry["pricing"]["rates"]:
        prices = {
            k: Decimal(str(rate[k])) for k in ("usd", "base_usd", "per_second_usd") if k in rate
        }
        dims = {k: v for k, v in rate.items() if k not in prices and k != "note"}
        cells = {k: v for k, v in dims.items() if isinstance(v, dict)}
        plain = tuple(sorted((k, str(v)) for k, v in dims.items() if k not in cells))
        if not cells:
            out.add((plain, tuple(sorted(prices.items()))))
        for resolution, by_duration in cells.items():
            for seconds, usd in by_duration.items():
                cell = (("duration", seconds.removesuffix("s")), ("resolution", resolution))
                key = tuple(sorted(plain + cell))
                out.add((key, (("usd", Decimal(str(usd))),)))
    return out


def _file_rates(model: str) -> set[tuple[Any, ...]]:
    out = set()
    for rate in SHIPPED[model].pricing["rates"]:
        dims = tuple(
            sorted(
                (k, "/".join(v) if isinstance(v, list) else str(v)) for k, v in rate["when"].items()
            )
        )
        prices = {k: Decimal(rate[k]) for k in ("usd", "base_usd", "per_second_usd") if k in rate}
        prices.update({k: Decimal(v) for k, v in rate.get("page", {}).items() if k in prices})
        out.add((dims, tuple(sorted(prices.items()))))
    return out


@pytest.mark.parametrize("model", sorted(SERVED))
def test_prices_agree_with_the_catalogue(model: str) -> None:
    assert _file_rates(model) == _catalogue_rates(SERVED[model])


# Worked examples, each from the page's own price text (see the model files' sources).
PRICES = [
    ("kwaivgi/kling-o1/image-to-video", {"mode": "std", "duration": "5"}, "0.375"),
    ("kwaivgi/kling-o1/image-to-video", {"mode": "pro", "duration": "10"}, "1"),
    ("kwaivgi/kling-o1/text-to-video", {"mode": "pro", "duration": "10"}, "1"),
    ("kwaivgi/kling-o3/text-to-video", {"mode": "std", "sound": "on", "duration": 15}, "1.425"),
    ("kwaivgi/kling-3.0/text-to-video", {"mode": "pro", "duration": "10"}, "1.9"),
    ("kwaivgi/kling-2.6/text-to-video", {"generate_audio": True, "duration": "10"}, "1.2"),
    (
        "google/veo-3.1/text-to-video",
        {"mode": "quality", "resolution": "4k", "generate_audio": True},
        "3.84",
    ),
    ("google/veo-3.1/text-to-video", {"mode": "fast", "duration": "4"}, "0.32"),
    ("google/veo-3.1/reference-to-video", {"resolution": "1080p"}, "1.28"),
    ("bytedance/seedance-2.0/text-to-video", {"mode": "fast", "duration": 15}, "3"),
    ("bytedance/seedance-2.0/omni-reference", {}, "0.84"),  # output seconds only
    (
        "vidu/vidu-q3/text-to-video",
        {"mode": "turbo", "resolution": "1080p", "duration": "16"},
        "1.024",
    ),
    (
        "vidu/vidu-q2/image-to-video",
        {"mode": "pro", "resolution": "720p", "duration": "5"},
        "0.275",
    ),
    (
        "vidu/vidu-q2/image-to-video",
        {"mode": "turbo", "resolution": "720p", "duration": "1"},
        "0.04",
    ),
    (
        "vidu/vidu-q2/image-to-video",
        {"mode": "turbo", "resolution": "720p", "duration": "2"},
        "0.05",
    ),
    (
        "vidu/vidu-q2/image-to-video",
        {"mode": "turbo", "resolution": "720p", "duration": "5"},
        "0.2",
    ),
    (
        "vidu/vidu-q2/start-end-to-video",
        {"mode": "pro-fast", "resolution": "1080p", "duration": "8"},
        "0.22",
    ),
    (
        "vidu/vidu-q2/text-to-video",
        {"resolution": "720p", "duration": "5"},
        "0.175",
    ),  # 0.75 read 0.075
    ("vidu/vidu-q2/text-to-video", {"resolution": "540p", "duration": "10"}, "0.14"),
    (
        "pixverse/pixverse-5.5/transition",
        {"resolution": "720p", "duration": "8", "generate_audio": True},
        "1.19",
    ),
    ("pixverse/pixverse-5.5/transition", {"resolution": "1080p"}, "1.02"),
    ("pixverse/pixverse-5.5/text-to-video", {"resolution": "540p", "duration": "10"}, "0.281"),
    (
        "pixverse/pixverse-6.0/text-to-video",
        {"resolution": "1080p", "generate_audio": True, "duration": "8"},
        "0.784",
    ),
    ("alibaba/wan-2.6/image-to-video", {"resolution": "720P", "duration": 15}, "1.275"),
    ("alibaba/wan-2.6/image-to-video", {}, "0.64"),  # 1080P, 5 s by default
    ("alibaba/wan-2.7/image-to-video", {"duration": 2}, "0.17"),
    ("google/nano-banana/text-to-image", {"num_images": 4}, "0.12"),
    ("google/nano-banana-pro/text-to-image", {"resolution": "2K"}, "0.08"),
    ("google/nano-banana-pro/text-to-image", {"resolution": "4K"}, "0.12"),
    ("google/nano-banana-2/edit", {"resolution": "2K"}, "0.06"),
    ("bytedance/seedream-4.5/edit", {"num_images": 6}, "0.228"),
    ("bytedance/seedream-5.0/text-to-image", {"num_images": 2}, "0.066"),
    ("shortapi/z-image/text-to-image", {}, "0.004"),
    ("shortapi/z-image/text-to-image", {"resolution": "1.5K", "num_images": 2}, "0.018"),
    ("shortapi/flux-1.0/text-to-image", {"performance": "schnell", "num_images": 8}, "0.002"),
    ("shortapi/flux-1.0/image-to-image", {}, "0.02"),
    ("midjourney/midjourney-v7/text-to-image", {}, "0.04"),
    ("openai/gpt-image-2/edit", {}, "0.06"),
    ("suno/suno-v5/generate", {"mode": "custom"}, "0.1"),
]


@pytest.mark.parametrize(("model", "args", "expected"), PRICES)
def test_price_worked_examples(model: str, args: dict[str, Any], expected: str) -> None:
    assert pricing.amount(MODELS[model], args) == expected


def test_price_without_a_matching_rate_is_the_dearest() -> None:
    spec = MODELS["pixverse/pixverse-5.5/image-to-video"]  # a cut page: duration unchecked
    assert pricing.amount(spec, {"duration": "7"}) == "0.935"


def test_price_overrides_by_mode_and_for_every_rate() -> None:
    kling = MODELS["kwaivgi/kling-o1/image-to-video"]
    assert pricing.amount(kling, {"mode": "std"}, {kling.id: {"std": "0.01"}}) == "0.05"
    assert pricing.amount(kling, {"mode": "pro"}, {kling.id: {"std": "0.01"}}) == "0.5"
    gpt = MODELS["openai/gpt-image-2/text-to-image"]
    assert pricing.amount(gpt, {}, {gpt.id: {"*": "0.5"}}) == "0.5"


def test_an_unknown_model_costs_nothing() -> None:
    assert pricing.amount(registry.unknown_spec("a/b/text-to-image"), {"num_images": 4}) == "0"


def test_kling_keeps_its_shape_readers() -> None:
    kling = MODELS["kwaivgi/kling-o1/image-to-video"]
    assert kling.aspect_ratio({"action": "frame", "aspect_ratio": "1:1"}) == "16:9"
    assert kling.aspect_ratio({"action": "refer", "aspect_ratio": "1:1"}) == "1:1"
    assert kling.aspect_ratio({"action": "refer"}) == "16:9"
    assert kling.duration({}) == 5 and kling.duration({"duration": "10"}) == 10
    assert kling.count({}) == 1 and kling.audio({}) is False
    assert (kling.resolution({}), kling.resolution({"mode": "std"})) == ("1080p", "720p")
    assert (kling.default_mode, kling.default_duration) == ("pro", "5")
    assert kling.price_per_second == {"std": Decimal("0.075"), "pro": Decimal("0.1")}


@pytest.mark.parametrize(
    ("model", "args", "ratio", "count", "resolution"),
    [
        ("openai/gpt-image-2/text-to-image", {"size": "1536x1024"}, "3:2", 1, None),
        ("openai/gpt-image-2/text-to-image", {"size": "auto"}, "1:1", 1, None),
        ("alibaba/wan-2.6/text-to-image", {"width": 1920, "height": 1080}, "16:9", 1, None),
        ("google/nano-banana/edit", {"aspect_ratio": "9:16", "num_images": 3}, "9:16", 3, None),
        ("google/veo-3.1/image-to-video", {"aspect_ratio": "auto"}, "16:9", 1, "720p"),
        ("alibaba/wan-2.6/image-to-video", {}, "16:9", 1, "1080P"),
        ("bytedance/seedream-5.0/edit", {"aspect_ratio": "4:3"}, "4:3", 1, "2k"),
    ],
)
def test_media_readers(
    model: str, args: dict[str, Any], ratio: str, count: int, resolution: str | None
) -> None:
    spec = MODELS[model]
    assert (spec.aspect_ratio(args), spec.count(args), spec.resolution(args)) == (
        ratio,
        count,
        resolution,
    )


@pytest.mark.parametrize(
    ("model", "args", "audio"),
    [
        ("google/veo-3.1/image-to-video", {}, False),
        ("google/veo-3.1/image-to-video", {"generate_audio": True}, True),
        ("kwaivgi/kling-o3/text-to-video", {"sound": "on"}, True),
        ("kwaivgi/kling-o3/text-to-video", {}, False),  # its default, off
        ("kwaivgi/kling-3.0/motion-control", {}, True),  # keep_original_sound: yes
        ("kwaivgi/kling-3.0/motion-control", {"keep_original_sound": "no"}, False),
        ("kwaivgi/kling-o1/video-to-video", {"keep_audio": True}, True),
        ("alibaba/wan-2.6/image-to-video", {"audio": True}, True),
        ("alibaba/wan-2.6/text-to-video", {"audio_url": "https://a.example/m.mp3"}, True),
        ("alibaba/wan-2.6/text-to-video", {}, False),
        ("bytedance/seedance-2.0/text-to-video", {}, False),  # no switch on the page
        ("bytedance/seedance-2.0/text-to-video", {"generate_audio": True}, True),  # as sent
    ],
)
def test_audio_readers(model: str, args: dict[str, Any], audio: bool) -> None:
    assert MODELS[model].audio(args) is audio


@pytest.mark.parametrize(
    ("model", "args", "size"),
    [
        ("openai/gpt-image-2/text-to-image", {"size": "1536x1024"}, (1536, 1024)),
        ("openai/gpt-image-2/text-to-image", {"size": "auto"}, (1024, 1024)),
        ("openai/gpt-image-2/text-to-image", {}, (1024, 1024)),
        ("alibaba/wan-2.6/text-to-image", {"width": 1440, "height": 1280}, (1440, 1280)),
        ("alibaba/wan-2.6/text-to-image", {}, None),  # a square of the default class
        ("google/nano-banana-2/edit", {"resolution": "2K"}, None),  # a class, not a size
    ],
)
def test_size_readers(model: str, args: dict[str, Any], size: tuple[int, int] | None) -> None:
    assert MODELS[model].size(args) == size


@pytest.mark.parametrize("model", sorted(m for m, s in SHIPPED.items() if s.output == "videos"))
def test_every_video_model_reads_its_resolution_and_sound(model: str) -> None:
    spec = SHIPPED[model]
    assert {"duration", "aspect_ratio", "resolution", "audio"} <= set(spec.media)
    assert spec.resolution({}) in {"540p", "720p", "1080p", "720P", "1080P"}  # a default
    switches = set(AUDIO_ARGS) & spec.properties
    assert spec.media["audio"].arg == (
        min(switches, key=list(AUDIO_ARGS).index) if switches else None
    )


def test_video_to_video_without_duration_lasts_five_seconds() -> None:
    assert MODELS["kwaivgi/kling-o1/video-to-video"].duration({}) == 5
    assert MODELS["google/veo-3.1/extend-video"].duration({}) == 7


@pytest.mark.parametrize(
    ("model", "output"),
    [
        ("acme/new/text-to-image", "images"),
        ("acme/new/edit", "images"),
        ("acme/new/image-to-image", "images"),
        ("acme/new/reference-to-video", "videos"),
        ("acme/new/extend-video", "videos"),
        ("acme/new/transition", "videos"),
        ("acme/new/motion-control", "videos"),
        ("acme/suno-v9/generate", "musics"),
        ("acme/new/something", "videos"),
    ],
)
def test_unknown_model_output_is_guessed_from_its_id(model: str, output: str) -> None:
    spec = registry.spec_for(model)
    assert (spec.output, spec.known) == (output, False)


def test_lookups_stay_a_dict() -> None:
    assert type(MODELS) is dict
    assert registry.spec_for("kwaivgi/kling-o1/image-to-video") is registry.KLING_O1_I2V


@pytest.mark.parametrize("model", sorted(MODELS))
def test_no_number_an_amount_is_made_of_can_go_below_zero(model: str) -> None:
    """Every numeric input is bounded below (a range, an enum, or at least above 0), so no
    accepted job is priced at a negative amount (A-duration-positive)."""
    for name, node in document(model).get("properties", {}).items():
        if node.get("type") in ("integer", "number"):
            assert not Draft202012Validator(node).is_valid(-1), f"{model}: {name} takes -1"
