#!/usr/bin/env bash
# A shortapi.ai client in bash with curl: one video, one image and one song, each created,
# polled and downloaded. It knows nothing of shortapi-mock; to run it offline:
#
#     shortapi-mock run --speed 20 -- bash examples/clients/curl.sh
set -euo pipefail

API=https://api.shortapi.ai/api/v1
KEY=${SHORTAPI_KEY:-ak-0123456789abcdef0123456789abcdef}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

field() { sed -n "s/.*\"$1\": *\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -n 1; }

create() {  # model, args (JSON): prints the job id
  curl -sS --fail-with-body "$API/job/create" -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' -d "{\"model\": \"$1\", \"args\": $2}" | field job_id
}

check() {  # job id, kind (videos|images|musics), magic bytes (hex) and their offset
  local job=$1 kind=$2 answer status url
  while :; do
    answer=$(curl -sS --fail-with-body "$API/job/query?id=$job" -H "Authorization: Bearer $KEY")
    status=$(field status <<<"$answer")
    [ "$status" -ge 2 ] && break
    sleep 1
  done
  [ "$status" = 2 ] || { echo "job $job failed: $answer" >&2; exit 1; }
  url=$(sed -n "s/.*\"$kind\": *\[{\"url\": *\"\([^\"]*\)\".*/\1/p" <<<"$answer")
  curl -sS --fail -o "$OUT/$job" "$url"
  head=$(od -An -tx1 -j "$4" -N "$(( ${#3} / 2 ))" "$OUT/$job" | tr -d ' \n')
  [ "$head" = "$3" ] || { echo "$url: not a $kind file ($head)" >&2; exit 1; }
  echo "$kind: $url ($(wc -c <"$OUT/$job") bytes)"
}

video=$(create kwaivgi/kling-o1/image-to-video '{"mode": "std", "action": "frame",
  "prompt": "a cat walks", "duration": "5", "images": ["https://example.com/start.jpg"]}')
image=$(create google/nano-banana/text-to-image '{"prompt": "a red fox", "aspect_ratio": "1:1"}')
song=$(create suno/suno-v5/generate '{"mode": "description", "gpt_description_prompt": "a jingle"}')
check "$video" videos 66747970 4   # "ftyp"
check "$image" images 89504e47 0   # PNG
check "$song" musics 52494646 0    # "RIFF" (WAV)
