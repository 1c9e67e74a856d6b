# The "Python (Requests)" example of the model's documentation page,
# kwaivgi/kling-o1/image-to-video on shortapi.ai (the project's seed page,
# ../shared/seed-kling-o1-image-to-video.md), copied verbatim. The page as stored has its
# whitespace collapsed to single spaces, so the line breaks and indentation below are
# restored; every token is the page's own.
#
# The snippet uses a variable SHORTAPI_KEY that it never defines. tests/test_doc_examples.py
# runs it with sys.executable after two changes made at run time, nothing else:
#   1. it prepends `import os; SHORTAPI_KEY = os.environ["SHORTAPI_KEY"]`;
#   2. it replaces https://api.shortapi.ai with the served mock's base URL.
# Do not "fix" the example (e.g. data.get("job_id"), which is a bug of the docs: the create
# response has job_id under "data"); the tests check what it does as written.
#
# ruff: noqa: F821, E501
# fmt: off
import requests

# Step 1: Create a job
url = "https://api.shortapi.ai/api/v1/job/create"

payload = {
    "model": "kwaivgi/kling-o1/image-to-video",
    "args": {
        "mode": "pro",
        "action": "refer",
        "prompt": "[@element1] wears theoutft from [@image1] and the hat from [@image2],strolling slowly with hands in pockets on thestreets of Kyoto.",
        "images": ["https://file.shortapi.ai/assets/examples/kwaivgi/kling-o1/image-to-video-image_1.webp","https://file.shortapi.ai/assets/examples/kwaivgi/kling-o1/image-to-video-image_2.webp"]
    },
    "callback_url": "CALLBACK_URL"
}

headers = {
    "Authorization": f"Bearer {SHORTAPI_KEY}",
    "Content-Type": "application/json"
}

response = requests.post(url, headers=headers, json=payload)
data = response.json()
JOB_ID = data.get("job_id")

# Step 2: Poll for results
result_url = f"https://api.shortapi.ai/api/v1/job/query?id={JOB_ID}"
result = requests.get(result_url, headers={"Authorization": f"Bearer {SHORTAPI_KEY}"})
print(result.json())
