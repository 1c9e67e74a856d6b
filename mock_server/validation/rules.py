"""Named cross-field rules that JSON Schema cannot say.

Each rule is a generator: given a request's ``args`` (already valid against the model's
schema) it yields every `Problem`, each with a JSON pointer and a message that says how
to fix the request. Rules never raise on odd input; the schema ran first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.errors import Problem
from mock_server.urls import is_http_url

MAX_INPUTS = 7
RequestRule = Callable[[Mapping[str, Any], "Context"], Iterator[Problem]]
_REFERENCE = re.compile(r"\[@(image|element)(\d+)\]")


@dataclass(frozen=True)
class Context:
    """What a rule may know besides the args."""

    profile: str = "default"  # or "strict"
    strict_args: bool = False  # the pages' strict reading of args (validation/leniency.py)

    @property
    def lenient_severity(self) -> str:
        """Severity of findings that are warnings unless the profile is strict."""
        return "error" if self.profile == "strict" else "warning"


def _list(args: Mapping[str, Any], key: str) -> list[Any]:
    value = args.get(key, [])
    return value if isinstance(value, list) else []


def _images_plus_elements(args: Mapping[str, Any], limit: int) -> Iterator[Problem]:
    images, elements = len(_list(args, "images")), len(_list(args, "elements"))
    if images + elements > limit:
        yield Problem(
            f"inputs.max_{limit}",
            "/elements" if elements else "/images",
            f"images ({images}) + elements ({elements}) = {images + elements}, more than "
            f"{limit}; remove {images + elements - limit} of them",
        )


def images_plus_elements_at_most_7(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """Images plus elements must not exceed 7 (A-images-elements-max)."""
    yield from _images_plus_elements(args, MAX_INPUTS)


def images_plus_elements_at_most_4(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """Images plus elements must not exceed 4 (the kling video-to-video pages)."""
    yield from _images_plus_elements(args, 4)


def multi_prompt_durations_add_up(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """The shots' durations add up to the task's duration (the kling-3.0 pages)."""
    shots = [s.get("duration") for s in _list(args, "multi_prompt") if isinstance(s, dict)]
    total = args.get("duration")
    if not shots or not all(_whole(n) for n in shots) or not _whole(total):
        return
    lengths = [int(str(n)) for n in shots]
    if sum(lengths) != int(str(total)):
        yield Problem(
            "multi_prompt.durations_sum",
            "/multi_prompt",
            f"the shots last {' + '.join(str(n) for n in lengths)} = {sum(lengths)} s but "
            f"duration is {total!r}; make the shot durations add up to the duration",
        )


def _whole(value: Any) -> bool:
    """Say whether `value` is a whole number of seconds (5 or "5")."""
    if isinstance(value, str):
        return value.isdigit()
    return isinstance(value, int) and not isinstance(value, bool)


def video_image_audio_urls_at_most_12(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """video_url + image_urls + audio_urls hold at most 12 files (the seedance-2.0 pages)."""
    counts = {
        "video_url": 1 if isinstance(args.get("video_url"), str) else 0,
        "image_urls": len(_list(args, "image_urls")),
        "audio_urls": len(_list(args, "audio_urls")),
    }
    total = sum(counts.values())
    if total > 12:
        spot = next(k for k in ("audio_urls", "image_urls") if counts[k])
        parts = " + ".join(f"{k} ({n})" for k, n in counts.items() if n)
        yield Problem(
            "inputs.max_12",
            f"/{spot}",
            f"{parts} = {total} files, more than 12; remove {total - 12} of them",
        )


def _area_rule(low: int, high: int) -> RequestRule:
    def rule(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
        width, height = args.get("width"), args.get("height")
        if not (isinstance(width, int) and isinstance(height, int)) or not width or not height:
            return
        if not low * low <= width * height <= high * high:
            yield Problem(
                "size.area",
                "/width",
                f"width x height = {width} x {height} = {width * height:,} px; it must be "
                f"from {low} x {low} = {low * low:,} to {high} x {high} = {high * high:,}: "
                f"e.g. {low} x {low}",
            )
        if not 1 / 4 <= width / height <= 4:
            yield Problem(
                "size.ratio",
                "/height",
                f"width:height = {width}:{height} is outside 1:4 to 4:1; bring the sides closer",
            )

    rule.__name__ = f"width_height_{low}_to_{high}"
    rule.__doc__ = (
        f"width x height from {low}x{low} to {high}x{high}, ratio 1:4 to 4:1 (the wan-2.6 pages)."
    )
    return rule


def duration_allowed_for_action(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """A frame job with one image lasts "5" or "10" (A-duration-frame-single-image)."""
    duration = args.get("duration", "5")
    single_frame = args.get("action") == "frame" and len(_list(args, "images")) == 1
    if single_frame and duration not in ("5", "10"):
        yield Problem(
            "duration.frame_single_image",
            "/duration",
            f"duration {duration!r} is not allowed for action 'frame' with a single "
            'image; use "5" or "10", or add an end frame as a second image',
        )


def aspect_ratio_only_with_refer(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """aspect_ratio is only valid with action refer (A-aspect-ratio-refer-only)."""
    if "aspect_ratio" in args and args.get("action") != "refer":
        yield Problem(
            "aspect_ratio.refer_only",
            "/aspect_ratio",
            "aspect_ratio is only valid with action 'refer'; remove it (a frame job takes "
            "its shape from the start frame) or set action to 'refer'",
        )


def frame_uses_first_two_images(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """A frame job uses only its first two images; note the rest (A-frame-extra-images)."""
    images = _list(args, "images")
    if args.get("action") == "frame" and len(images) > 2:
        yield Problem(
            "images.frame_extra_ignored",
            "/images/2",
            f"action 'frame' uses only the first two images (start and end frame); the "
            f"other {len(images) - 2} will be ignored: remove them or use action 'refer'",
            severity="warning",
        )


def prompt_references_exist(args: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """[@imageN] and [@elementN] must point at inputs that exist (A-prompt-references)."""
    prompt = args.get("prompt")
    if not isinstance(prompt, str):
        return
    counts = {"image": len(_list(args, "images")), "element": len(_list(args, "elements"))}
    seen: set[tuple[str, int]] = set()
    for match in _REFERENCE.finditer(prompt):
        kind, number = match.group(1), int(match.group(2))
        if (kind, number) in seen or 1 <= number <= counts[kind]:
            continue
        seen.add((kind, number))
        have = counts[kind]
        fix = (
            f"use [@{kind}1] to [@{kind}{have}]"
            if have
            else f"add {kind}s to the request or remove the reference"
        )
        yield Problem(
            "prompt.reference_exists",
            "/prompt",
            f"the prompt references [@{kind}{number}] but the request has {have} "
            f"{kind}{'' if have == 1 else 's'}; {fix}",
            severity=ctx.lenient_severity,
        )


RULES: dict[str, RequestRule] = {
    rule.__name__: rule
    for rule in (
        images_plus_elements_at_most_7,
        duration_allowed_for_action,
        aspect_ratio_only_with_refer,
        frame_uses_first_two_images,
        prompt_references_exist,
        images_plus_elements_at_most_4,
        multi_prompt_durations_add_up,
        video_image_audio_urls_at_most_12,
        _area_rule(1280, 1440),
        _area_rule(768, 1280),
    )
}
"""The named cross-field rules a model file may list."""


def for_model(names: Iterable[str]) -> tuple[RequestRule, ...]:
    """Return the rules a model names, in its order."""
    return tuple(RULES[name] for name in names)


def callback_url_is_http(envelope: Mapping[str, Any], ctx: Context) -> Iterator[Problem]:
    """callback_url should be an absolute http(s) URL (A-callback-url-form)."""
    url = envelope.get("callback_url")
    if isinstance(url, str) and not is_http_url(url):
        yield Problem(
            "callback_url.http",
            "/callback_url",
            f"callback_url {url[:80]!r} is not an absolute http(s) URL, so no callback "
            'will be delivered; send e.g. "https://example.com/hooks/shortapi" or leave it out',
            severity=ctx.lenient_severity,
        )
