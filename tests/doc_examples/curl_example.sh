# The "Bash (cURL)" example of the model's documentation page, kwaivgi/kling-o1/image-to-video
# on shortapi.ai (the project's seed page, ../shared/seed-kling-o1-image-to-video.md), copied
# verbatim. The page as stored has its whitespace collapsed to single spaces, so the line
# breaks and indentation below are restored; every token is the page's own.
#
# tests/test_doc_examples.py runs it with bash and SHORTAPI_KEY set in the environment; the
# only change it makes at run time is a string replace of https://api.shortapi.ai with the
# served mock's base URL. Do not "fix" the example: the tests check what it does as written.

# Step 1: Create a job
response=$(curl --request POST \
  --url https://api.shortapi.ai/api/v1/job/create \
  --header "Authorization: Bearer $SHORTAPI_KEY" \
  --header "Content-Type: application/json" \
  --data '{
    "model": "kwaivgi/kling-o1/image-to-video",
    "args": {
      "mode": "pro",
      "action": "refer",
      "prompt": "[@element1] wears theoutft from [@image1] and the hat from [@image2],strolling slowly with hands in pockets on thestreets of Kyoto.",
      "images": ["https://file.shortapi.ai/assets/examples/kwaivgi/kling-o1/image-to-video-image_1.webp","https://file.shortapi.ai/assets/examples/kwaivgi/kling-o1/image-to-video-image_2.webp"]
    },
    "callback_url": "CALLBACK_URL"
  }')

JOB_ID=$(echo "$response" | grep -o '"job_id": *"[^"]*"' | sed 's/"job_id": *//; s/"//g')

# Step 2: Poll for results
curl --request GET \
  --url "https://api.shortapi.ai/api/v1/job/query?id=$JOB_ID" \
  --header "Authorization: Bearer $SHORTAPI_KEY"
