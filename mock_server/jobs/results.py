"""What a succeeded job's ``result`` holds: its files under the key clients read, and which
file each of its URLs serves (`api/files.py` serves them, as a CDN would).

The key is the model's output kind (``videos``, ``images``, ``musics``) unless a setting
forces one for every model (A-result-key); a forced key of another kind holds the same files.
The files, under ``/files/``:

- videos: ``<job_id>.mp4``, an H.264 MP4 of the job's aspect ratio, resolution and duration,
  with an AAC track when it asks for sound (A-result-mp4);
- images: ``<job_id>/<n>.<png|jpg|webp>`` for n = 1..count (``num_images`` or the like), of
  the exact size the job asks (``size``, ``width`` and ``height``), else at its aspect ratio and
  resolution class, PNG unless the args ask ``output_format`` (A-result-images);
- musics: ``<job_id>/music-<n>.wav`` and ``<job_id>/cover-<n>.jpg``, two songs per job, each
  with its ``title``, ``lyrics`` and ``tags``. Two, as Suno makes two variants of every song
  (its upstream API and resellers say so); the page's example shows the list's shape with one
  item. A client reading ``musics[0]`` sees no difference; one walking the list sees two
  (A-result-musics).

A model the catalogue does not hold (``--unknown-models accept``) gets the output kind its id
suggests; `output_kind` is the one place that decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mock_server.catalog.registry import ModelSpec, spec_for
from mock_server.data import media, videos
from mock_server.data.media import Media
from mock_server.state.records import Job

AUTO = "auto"
MUSICS_PER_JOB = 2
_IMAGE = re.compile(r"([1-9][0-9]*)\.(png|jpg|webp)")
_MUSIC = re.compile(r"(music|cover)-([1-9][0-9]*)\.(wav|jpg)")


def spec(job: Job) -> ModelSpec:
    """Return the spec of the job's model (one synthesized from its id if unknown)."""
    return spec_for(job.model)


def output_kind(job: Job) -> str:
    """Return the output kind of the job's model: videos, images or musics."""
    return spec(job).output


def result_key(job: Job, setting: str) -> str:
    """Return the key a job's result files go under, given the ``result_key`` setting."""
    return output_kind(job) if setting == AUTO else setting


def image_format(job: Job) -> str:
    """Return the Pillow format of an image job's files: the ``output_format`` arg, else PNG."""
    return media.image_format(spec(job).output_format(job.args))


def file_names(job: Job) -> list[str]:
    """Return the paths under ``/files/`` of the job's files, in the order the result lists
    them (musics: each song, then its cover)."""
    kind = output_kind(job)
    if kind == "images":
        ext = media.extension(image_format(job))
        return [f"{job.id}/{n}.{ext}" for n in range(1, spec(job).count(job.args) + 1)]
    if kind == "musics":
        return [
            f"{job.id}/{name}-{n}.{ext}"
            for n in range(1, MUSICS_PER_JOB + 1)
            for name, ext in (("music", "wav"), ("cover", "jpg"))
        ]
    return [f"{job.id}.mp4"]


def result(job: Job, setting: str, base_url: str) -> dict[str, list[dict[str, Any]]]:
    """Return the ``result`` object of a succeeded job, its URLs on the mock at `base_url`."""
    files = f"{base_url.rstrip('/')}/files/"
    names = file_names(job)
    entries: list[dict[str, Any]]
    if output_kind(job) == "musics":
        entries = [
            {"url": files + song, "cover": files + picture, **song_text(job.args)}
            for song, picture in zip(names[::2], names[1::2], strict=True)
        ]
    else:
        entries = [{"url": files + name} for name in names]
    return {result_key(job, setting): entries}


def song_text(args: Mapping[str, Any]) -> dict[str, str]:
    """Return a song's ``title``, ``lyrics`` and ``tags``: as sent (custom mode), else made
    from the description (``gpt_description_prompt``); always strings, empty lyrics for an
    instrumental."""
    description = str(args.get("gpt_description_prompt") or args.get("prompt") or "").strip()
    title = str(args.get("title") or "").strip() or _title(description)
    if args.get("mode") == "custom" or "lyrics" in args:
        lyrics = str(args.get("lyrics") or "")
    elif args.get("make_instrumental") is True or not description:
        lyrics = ""
    else:
        lyrics = f"[Verse]\n{description}\n\n[Chorus]\n{title}"
    return {"title": title, "lyrics": lyrics, "tags": str(args.get("tags") or "")}


def result_file(job: Job, name: str) -> Media | None:
    """Return what the path `name` under ``/files/`` serves for `job` (a succeeded job), made
    from its args; None when the job has no file of that name."""
    if name not in file_names(job):
        return None
    model, args = spec(job), job.args
    if name == f"{job.id}.mp4":
        return videos.result_video(
            model.aspect_ratio(args),
            model.resolution(args),
            model.duration(args),
            model.audio(args),
        )
    leaf = name.rpartition("/")[2]
    if found := _MUSIC.fullmatch(leaf):
        n = int(found.group(2))
        return media.song(n) if found.group(1) == "music" else media.cover(n)
    found = _IMAGE.fullmatch(leaf)
    if found is None:  # pragma: no cover - file_names makes no other name
        return None
    n = int(found.group(1))
    size = model.size(args)
    resolution = f"{size[0]}x{size[1]}" if size else model.resolution(args)
    return media.result_image(model.aspect_ratio(args), resolution, image_format(job), n)


def _title(description: str) -> str:
    words = description.split()[:6]
    return " ".join(words).strip(" .,;:!?").capitalize() if words else "Untitled"
