// A shortapi.ai client in Node with the built-in fetch: one video, one image and one song,
// each created, polled and downloaded. It knows nothing of shortapi-mock; to run it offline:
//
//     shortapi-mock run --speed 20 -- node examples/clients/node_fetch.mjs

const API = "https://api.shortapi.ai/api/v1";
const KEY = process.env.SHORTAPI_KEY ?? "ak-0123456789abcdef0123456789abcdef";
const JOBS = [
  ["kwaivgi/kling-o1/image-to-video", { mode: "std", action: "frame", prompt: "a cat walks",
    duration: "5", images: ["https://example.com/start.jpg"] }, "videos"],
  ["google/nano-banana/text-to-image", { prompt: "a red fox", aspect_ratio: "1:1" }, "images"],
  ["suno/suno-v5/generate", { mode: "description", gpt_description_prompt: "a jingle" }, "musics"],
];
const headers = { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function looksLike(kind, bytes) {
  const text = (start, end) => Buffer.from(bytes.slice(start, end)).toString("latin1");
  if (kind === "videos") return text(4, 8) === "ftyp";
  if (kind === "images") return text(0, 4) === "\x89PNG" || text(0, 3) === "\xff\xd8\xff";
  return text(0, 4) === "RIFF" || text(0, 3) === "ID3";
}

const created = [];
for (const [model, args, kind] of JOBS) {
  const answer = await fetch(`${API}/job/create`, {
    method: "POST", headers, body: JSON.stringify({ model, args }),
  });
  if (!answer.ok) throw new Error(`create ${model}: ${answer.status} ${await answer.text()}`);
  created.push([(await answer.json()).data.job_id, kind]);
}
for (const [jobId, kind] of created) {
  let data;
  for (;;) {
    data = (await (await fetch(`${API}/job/query?id=${jobId}`, { headers })).json()).data;
    if (data.status >= 2) break;
    await sleep(1000);
  }
  if (data.status !== 2) {
    console.error(`job ${jobId} failed`, data);
    process.exit(1);
  }
  const url = data.result[kind][0].url;
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  if (!looksLike(kind, bytes)) {
    console.error(`${url}: not a ${kind} file`);
    process.exit(1);
  }
  console.log(`${kind}: ${url} (${bytes.length} bytes)`);
}
