"""The registry of models: one `ModelSpec` per model id, read from the model files.

A model is data: one file per model under ``schemas/models/`` (its args JSON Schema plus an
``x-shortapi`` block, `schemas/model-file.schema.json`), loaded here at import. Adding a model
is adding a file; code only for a cross-field rule JSON Schema cannot say, which the file names
and `mock_server.validation.rules.RULES` holds (the catalogue imports nothing of validation).
A user folder (``--models-dir``) is loaded beside the shipped files with `load_models_dir`.

`MODELS` is the process's catalogue, a dict (O(1) lookups): the shipped models plus any user
folder loaded into the process. `spec_for` also answers for a model id the catalogue does not
hold (accepted with ``--unknown-models accept``) with a spec synthesized from the id.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mock_server import bounds
from mock_server.catalog.tables import AUDIO_ARGS, DEFAULT_VIDEO_RESOLUTION, FORMAT_ARGS
from mock_server.data import schemas
from mock_server.data.media import pixels
from mock_server.errors import ConfigError

BLOCK = "x-shortapi"
FOLDER = "models"  # under the schemas folder
FILE_SCHEMA = "model-file.schema.json"
ANY_ARGS = "models/_any.args.json"
_RATIO = re.compile(r"[1-9][0-9]*:[1-9][0-9]*")
_OFF = frozenset({"", "false", "off", "no", "none", "0"})


@dataclass(frozen=True)
class Reader:
    """How one property of the result is read from the args (the file's ``media`` block)."""

    arg: str | None = None
    default: Any = None
    when: Mapping[str, Any] = field(default_factory=dict)
    map: Mapping[str, Any] = field(default_factory=dict)
    width: str | None = None
    height: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """What the mock knows about one model (its model file, parsed)."""

    id: str
    args_schema: str  # a file under schemas/ ("models/..."), or the path of a user file
    category: str = "image-to-video"  # as the catalogue names it (text-to-image, ...)
    output: str = "videos"  # the output kind, and the default result key: videos | images | musics
    rules: tuple[str, ...] = ()  # names in validation.rules.RULES
    complete: bool = True  # False: the page was only partly seen (unknown keys warn)
    cut_note: str | None = None
    pricing: Mapping[str, Any] = field(default_factory=dict)  # the file's pricing table
    media: Mapping[str, Reader] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # each arg's schema default
    properties: frozenset[str] = frozenset()  # the args the file names
    required: frozenset[str] = frozenset()  # the args the page marks required
    sources: tuple[str, ...] = ()
    known_from: str = "page"  # page, cut page, client code, sibling pages, id only
    known: bool = True  # False: synthesized for an id the catalogue does not hold

    def value(self, args: Mapping[str, Any], name: str) -> Any:
        """Return arg `name` as sent, else its schema default (None when it has none)."""
        return args[name] if name in args else self.defaults.get(name)

    def reader(self, args: Mapping[str, Any], what: str) -> Reader | None:
        """Return the reader of `what` for these args: the file's, unless it reads no arg
        (an option the page does not show, or an unknown model), then the first of the
        commonest arg names the args send (`GUESSES`), else the file's default."""
        reader = self.media.get(what)
        if reader is not None and (reader.arg or reader.width):
            return reader
        return next((g for g in GUESSES.get(what, ()) if _sends(args, g)), reader)

    def _read(self, args: Mapping[str, Any], what: str) -> Any:
        reader = self.reader(args, what)
        if reader is None:
            return None
        if reader.arg is None or any(self.value(args, k) != v for k, v in reader.when.items()):
            return reader.default
        value = self.value(args, reader.arg)
        value = reader.map.get(value, value) if isinstance(value, str) else value
        return reader.default if value is None else value

    def duration(self, args: Mapping[str, Any]) -> int:
        """Return the length of the result video in seconds (5 where the args do not say)."""
        value = self._read(args, "duration")
        try:
            return int(value)
        except (TypeError, ValueError):
            return int(self.media["duration"].default or 5) if "duration" in self.media else 5

    def aspect_ratio(self, args: Mapping[str, Any]) -> str:
        """Return the aspect ratio of the result ("16:9"), the reader's default when the args
        do not give one (e.g. a frame job takes its ratio from the start frame, which the mock
        does not fetch: 16:9, A-result-mp4)."""
        reader = self.reader(args, "aspect_ratio")
        fallback = str(reader.default) if reader and reader.default else "16:9"
        if reader is not None and reader.width and reader.height:
            width, height = self.value(args, reader.width), self.value(args, reader.height)
            if _positive_ints(width, height):
                divisor = math.gcd(width, height)
                return f"{width // divisor}:{height // divisor}"
            return fallback
        value = self._read(args, "aspect_ratio")
        return value if isinstance(value, str) and _RATIO.fullmatch(value) else fallback

    def count(self, args: Mapping[str, Any]) -> int:
        """Return how many files a job makes (num_images or the like; 1 by default), at most
        `bounds.RESULT_FILES`: an undocumented `n` is accepted by default and must not make a
        job of a million URLs."""
        value = self._read(args, "count")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return 1
        return min(value, bounds.RESULT_FILES)

    def resolution(self, args: Mapping[str, Any]) -> str | None:
        """Return the resolution option of the job in the model's own spelling, or None."""
        value = self._read(args, "resolution")
        return str(value) if value is not None else None

    def audio(self, args: Mapping[str, Any]) -> bool:
        """Return whether the result video has a sound track: the model's audio switch
        (``generate_audio``, ``sound: "on"``, ``audio``...) is on, or a sound URL is given."""
        value = self._read(args, "audio")
        if isinstance(value, str):
            return value.strip().lower() not in _OFF
        return value is True or (isinstance(value, int) and value > 0)

    def size(self, args: Mapping[str, Any]) -> tuple[int, int] | None:
        """Return the exact pixel size an image job asks (``size: "1536x1024"``, ``width`` and
        ``height``, ``image_size``), or None when it asks a ratio and class instead."""
        reader = self.reader(args, "size")
        if reader is not None and reader.width and reader.height:
            width, height = self.value(args, reader.width), self.value(args, reader.height)
            return (width, height) if _positive_ints(width, height) else None
        value = self._read(args, "size")
        if isinstance(value, Mapping):
            value = f"{value.get('width')}x{value.get('height')}"
        return pixels(value) if isinstance(value, str) else None

    def output_format(self, args: Mapping[str, Any]) -> str | None:
        """Return the file format an image job asks (``output_format``: png, jpeg, webp)."""
        value = self._read(args, "format")
        return str(value) if value is not None else None

    @functools.cached_property  # read on every create
    def required_defaults(self) -> Mapping[str, Any]:
        """The args the page marks required *with a default*, and their defaults: left out,
        the default applies unless ``--strict-args`` (A-required-with-default)."""
        return {k: v for k, v in self.defaults.items() if k in self.required}

    @property
    def price_unit(self) -> str:
        """The unit of the price: second, request, image, megapixel, base-plus-second."""
        return str(self.pricing.get("unit", "request"))

    @property
    def default_mode(self) -> str:
        """The mode a job has when the args give none."""
        return str(self.defaults.get("mode", ""))

    @property
    def default_duration(self) -> str:
        """The duration a job has when the args give none, as a string ("5")."""
        return str(self.duration({}))

    @property
    def price_per_second(self) -> Mapping[str, Decimal]:
        """The price per second by mode, for a model priced per second by mode alone."""
        if self.price_unit != "second":
            return {}
        return {
            str(rate["when"]["mode"]): Decimal(rate["usd"])
            for rate in self.pricing.get("rates", [])
            if set(rate["when"]) == {"mode"} and isinstance(rate["when"]["mode"], str)
        }


def _positive_ints(*values: Any) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)


def _sends(args: Mapping[str, Any], reader: Reader) -> bool:
    names = [reader.width, reader.height] if reader.width else [reader.arg]
    return all(name is not None and args.get(name) is not None for name in names)


GUESSES: Mapping[str, tuple[Reader, ...]] = {
    "duration": (Reader(arg="duration"),),
    "aspect_ratio": (Reader(arg="aspect_ratio"), Reader(width="width", height="height")),
    "count": (Reader(arg="num_images"), Reader(arg="n")),
    "resolution": (Reader(arg="resolution"),),
    "audio": tuple(Reader(arg=name, **spec) for name, spec in AUDIO_ARGS.items()),
    "size": (
        Reader(arg="size"),
        Reader(arg="image_size"),
        Reader(width="width", height="height"),
    ),
    "format": tuple(Reader(arg=name) for name in FORMAT_ARGS),
}
"""The commonest arg names of each result property, read where a model file has no reader of
an arg for it (an unknown model; an option the page does not show) and the args send one
(A-unknown-models): a job's files follow what it asks."""


def spec_from_document(document: Mapping[str, Any], name: str) -> ModelSpec:
    """Return the spec of a model file's parsed `document`; `name` is how `schemas` loads it."""
    block = document[BLOCK]
    properties: Mapping[str, Any] = document.get("properties", {})
    media = {what: Reader(**spec) for what, spec in block.get("media", {}).items()}
    return ModelSpec(
        id=str(block["model"]),
        args_schema=name,
        category=str(block["category"]),
        output=str(block["output"]),
        rules=tuple(block.get("rules", ())),
        complete=bool(block["complete"]),
        cut_note=block.get("cut_note"),
        pricing=block["pricing"],
        media=media,
        defaults={k: v["default"] for k, v in properties.items() if "default" in v},
        properties=frozenset(properties),
        required=frozenset(document.get("required", ())),
        sources=tuple(block.get("sources", ())),
        known_from=str(block.get("known_from") or ("page" if block["complete"] else "cut page")),
    )


def model_files(folder: Path) -> list[Path]:
    """Return the model files of `folder` (``*.json``, names starting with ``_`` left out)."""
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith("_"))


def _shipped() -> dict[str, ModelSpec]:
    specs = (
        spec_from_document(schemas.load(f"{FOLDER}/{path.name}"), f"{FOLDER}/{path.name}")
        for path in model_files(schemas.data_dir("schemas") / FOLDER)
    )
    return {spec.id: spec for spec in specs}


MODELS: dict[str, ModelSpec] = _shipped()
SHIPPED: Mapping[str, ModelSpec] = MappingProxyType(dict(MODELS))
"""The models shipped in schemas/models/, whatever user folders are loaded."""
KLING_O1_I2V = SHIPPED["kwaivgi/kling-o1/image-to-video"]


def check_file(path: Path, known_rules: Collection[str] | None = None) -> ModelSpec:
    """Return the spec of the model file at `path`, or raise `ConfigError` saying what is wrong
    with it (not JSON, not a JSON Schema, not the model-file format, a rule nobody defines)."""
    name = str(path.resolve())
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if schemas.load(name) != document:  # changed since this process read it
            schemas.reload()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"model file {path}: cannot read it as JSON ({exc})") from None
    problems = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
        for e in schemas.validator(FILE_SCHEMA).iter_errors(document)
    ]
    from jsonschema import Draft202012Validator, SchemaError  # a user's model folder only

    try:
        Draft202012Validator.check_schema(document)
    except SchemaError as exc:
        problems.append(f"not a valid JSON Schema: {exc.message}")
    if not problems and known_rules is not None:
        problems += [
            f"x-shortapi/rules: no rule named {rule!r} (known: {', '.join(sorted(known_rules))})"
            for rule in document[BLOCK]["rules"]
            if rule not in known_rules
        ]
    if problems:
        raise ConfigError(f"model file {path}: " + "; ".join(problems[:5]))
    return spec_from_document(document, name)


def load_models_dir(
    directory: str | Path, *, known_rules: Collection[str] | None = None
) -> list[ModelSpec]:
    """Load every model file of a user folder into `MODELS`, beside the shipped ones (a file
    naming a shipped model replaces it); return their specs. All files are checked first, so
    a folder with one bad file changes nothing."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigError(f"models folder {folder} does not exist or is not a folder")
    specs = [check_file(path, known_rules) for path in model_files(folder)]
    MODELS.update({spec.id: spec for spec in specs})
    return specs


def unload_user_models() -> None:
    """Forget every user folder loaded: `MODELS` holds the shipped models only (for tests)."""
    MODELS.clear()
    MODELS.update(SHIPPED)


# The output kind a model id suggests, by its last segment (A-unknown-models).
_GUESSES = (
    (("-to-image", "edit"), "images"),
    (("-to-video", "extend-video", "transition", "motion-control"), "videos"),
    (("generate", "-to-music"), "musics"),
)


def guess_output(model_id: str) -> str:
    """Return the output kind a model id's last segment suggests (videos when none does)."""
    task = model_id.rsplit("/", 1)[-1].lower()
    for endings, output in _GUESSES:
        if task.endswith(endings):
            return output
    return "videos"


# How an unknown model's result is read where the args do not say (`GUESSES` reads them where
# they do): the shape most shipped models default to.
_UNKNOWN_MEDIA = {
    "videos": {
        "duration": Reader(default=5),
        "aspect_ratio": Reader(default="16:9"),
        "resolution": Reader(default=DEFAULT_VIDEO_RESOLUTION),
        "audio": Reader(default=False),
    },
    "images": {"aspect_ratio": Reader(default="1:1"), "count": Reader(default=1)},
}


@functools.lru_cache(maxsize=1024)
def unknown_spec(model_id: str) -> ModelSpec:
    """Return a spec for a model id the catalogue does not hold: any args, no price, the
    output its id suggests (`guess_output`), its result read from the commonest arg names
    (`GUESSES`: `duration`, `aspect_ratio`, `resolution`, `generate_audio`, `size`...) where
    sent, else of the default shape."""
    output = guess_output(model_id)
    return ModelSpec(
        id=model_id,
        args_schema=ANY_ARGS,
        category=model_id.rsplit("/", 1)[-1],
        output=output,
        complete=False,
        known_from="id only",
        media=_UNKNOWN_MEDIA.get(output, {}),
        known=False,
    )


def spec_for(model_id: str) -> ModelSpec:
    """Return the spec of a model: the catalogue's, else one synthesized from its id (a job of
    an unknown model exists only where ``--unknown-models accept`` took it)."""
    return MODELS.get(model_id) or unknown_spec(model_id)
