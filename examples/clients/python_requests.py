"""A shortapi.ai client in Python with `requests`: one video, one image and one song, each
created, polled and downloaded. It knows nothing of shortapi-mock; to run it offline:

    shortapi-mock run --speed 20 -- python examples/clients/python_requests.py
"""

from __future__ import annotations

import os
import sys
import time

import requests

API = "https://api.shortapi.ai/api/v1"
KEY = os.environ.get("SHORTAPI_KEY", "ak-0123456789abcdef0123456789abcdef")
JOBS = [
    (
        "kwaivgi/kling-o1/image-to-video",
        {
            "mode": "std",
            "action": "frame",
            "prompt": "a cat walks",
            "duration": "5",
            "images": ["https://example.com/start.jpg"],
        },
        "videos",
    ),
    ("google/nano-banana/text-to-image", {"prompt": "a red fox", "aspect_ratio": "1:1"}, "images"),
    (
        "suno/suno-v5/generate",
        {"mode": "description", "gpt_description_prompt": "a jingle"},
        "musics",
    ),
]
MAGIC = {"videos": (b"ftyp",), "images": (b"\x89PNG", b"\xff\xd8\xff"), "musics": (b"RIFF", b"ID3")}


def main() -> int:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    created = []
    for model, args, kind in JOBS:
        answer = session.post(f"{API}/job/create", json={"model": model, "args": args}, timeout=30)
        answer.raise_for_status()
        created.append((answer.json()["data"]["job_id"], kind))
    for job_id, kind in created:
        while True:
            data = session.get(f"{API}/job/query", params={"id": job_id}, timeout=30).json()["data"]
            if data["status"] >= 2:
                break
            time.sleep(1)
        if data["status"] != 2:
            print(f"job {job_id} failed: {data}", file=sys.stderr)
            return 1
        url = data["result"][kind][0]["url"]
        file = requests.get(url, timeout=60).content  # no key for the file host
        head = file[4:8] if kind == "videos" else file[:4]
        if not head.startswith(MAGIC[kind]):
            print(f"{url}: not a {kind} file ({file[:12]!r})", file=sys.stderr)
            return 1
        print(f"{kind}: {url} ({len(file)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
