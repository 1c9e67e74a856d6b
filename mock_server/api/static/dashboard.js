// shortapi-mock dashboard: keeps the server-rendered page live by polling the admin API,
// and sends every control to the admin API. Plain JavaScript, no build step, nothing
// loaded from outside. Everything shown is set as text (no HTML is ever parsed from data): job arguments
// and journal bodies are user input. The markup mirrors templates/dashboard/*.html.
"use strict";

(() => {
  const body = document.body;
  const cfg = {
    page: body.dataset.page || "",
    api: body.dataset.api || "/_mock",
    token: body.dataset.token || "",
    pollMs: Number(body.dataset.pollMs) || 1000,
    ui: body.dataset.uiJobs || "/_mock/ui",
  };
  const STATUS = ["queued", "processing", "succeeded", "failed"];

  // ---- DOM and formatting helpers -------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") el.className = value;
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child)); // a string becomes a text node
    }
    return el;
  }

  const $ = (id) => document.getElementById(id);
  const statusName = (s) => (Number.isInteger(s) && STATUS[s] !== undefined ? STATUS[s] : String(s));

  function seconds(value, clock) {
    if (typeof value !== "number") return "-";
    return clock === "per-poll" ? `step ${value}` : `${value.toFixed(1)} s`;
  }

  function wall(value) {
    if (typeof value === "number") return new Date(value * 1000).toISOString().slice(11, 23);
    if (typeof value === "string" && value.includes("T")) return value.split("T")[1].slice(0, 12);
    return value ? String(value) : "-";
  }

  function shortId(id) {
    // short_id in dashboard.py: the random end of the id (its start is the creation second).
    return id.length > 10 ? `…${id.slice(-10)}` : id;
  }

  function truncate(text, length) {
    // Jinja's truncate(length): whole words, "..." appended, 5 characters of leeway.
    if (text.length <= length + 5) return text;
    let cut = text.slice(0, length - 3);
    const space = cut.lastIndexOf(" ");
    if (space >= 0) cut = cut.slice(0, space);
    return `${cut}...`;
  }

  const pretty = (value) => JSON.stringify(value, null, 2);

  function uiUrl(path, params) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(params || {})) {
      if (value) url.searchParams.set(name, value);
    }
    const poll = new URLSearchParams(window.location.search).get("poll");
    if (poll) url.searchParams.set("poll", poll);
    if (cfg.token) url.searchParams.set("token", cfg.token);
    return url.pathname + url.search;
  }

  const jobUrl = (id) => uiUrl(`${cfg.ui}/jobs/${encodeURIComponent(id)}`);

  // ---- the admin API ---------------------------------------------------------------
  async function api(method, path, payload) {
    const headers = { Accept: "application/json" };
    if (cfg.token) headers["X-Mock-Admin-Token"] = cfg.token;
    const init = { method, headers, cache: "no-store", credentials: "same-origin" };
    if (payload !== undefined || method !== "GET") {
      // Every state-changing call is JSON: the admin API refuses any other content type.
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload === undefined ? {} : payload);
    }
    const response = await fetch(cfg.api + path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const error = new Error((data && data.message) || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== "" && value !== null && value !== undefined) search.set(name, value);
    }
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  // ---- pieces (mirror templates/dashboard/_macros.html) ----------------------------
  const statusBadge = (status) => h("span", { class: `status s${status}` }, statusName(status));

  function timeline(steps, clock) {
    return h(
      "ol",
      { class: "timeline" },
      steps.map((step) =>
        h("li", { class: `s${step.status}` }, `${statusName(step.status)} `,
          h("span", { class: "at" }, seconds(step.at, clock))),
      ),
    );
  }

  function problems(list) {
    return h(
      "ul",
      { class: "problems" },
      list.map((p) =>
        h("li", { class: `problem ${p.severity}` },
          h("code", { class: "pointer" }, p.pointer || "/"), " ",
          h("span", { class: "message" }, p.message), " ",
          h("span", { class: "rule" }, p.rule)),
      ),
    );
  }

  function ruleItems(rules) {
    if (!rules.length) return [h("li", { class: "muted" }, "none")];
    return rules.map((rule) => {
      const spec = rule.spec || {};
      let meta = rule.remaining === null ? "every" : `${rule.remaining} left`;
      if (rule.endpoint && rule.endpoint !== "any") meta += ` · ${rule.endpoint}`;
      if (rule.key) meta += ` · ${rule.key}`;
      return h("li", {}, h("code", {}, spec.scenario || spec.fault || pretty(spec)), " ",
        h("span", { class: "muted" }, meta));
    });
  }

  function journalEntry(e) {
    const meta = [
      h("span", {}, `#${e.id}`),
      h("span", { title: e.time }, wall(e.time)),
      e.key ? h("span", { class: "key" }, e.key) : null,
      e.job_id ? h("a", { class: "job-ref", href: jobUrl(e.job_id), title: e.job_id }, `job ${shortId(e.job_id)}`) : null,
      e.job_status !== null && e.job_status !== undefined ? h("span", {}, `→ ${statusName(e.job_status)}`) : null,
      e.scenario ? h("span", { class: "tag" }, `scenario ${e.scenario}`) : null,
      e.fault ? h("span", { class: "tag tag-fault" }, `fault ${e.fault}`) : null,
      h("span", {}, `${e.duration_ms} ms`),
    ];
    return h(
      "li",
      { class: `entry o-${e.outcome}`, "data-id": e.id, "data-request-id": e.request_id },
      h("div", { class: "entry-head" },
        h("span", { class: `outcome o-${e.outcome}` }, e.outcome), " ",
        h("span", { class: "method" }, e.method), " ",
        h("code", { class: "path" }, e.query ? `${e.path}?${e.query}` : e.path), " ",
        h("span", { class: "http" }, e.code !== null && e.code !== undefined ? `${e.status} · code ${e.code}` : String(e.status))),
      h("div", { class: "entry-meta muted" }, meta),
      e.problems && e.problems.length ? problems(e.problems) : null,
      e.body ? h("details", {}, h("summary", {}, "body"), h("pre", { class: "body" }, e.body)) : null,
    );
  }

  function syncJournal(entries, emptyText) {
    // Entries never change once written: keep the rendered ones (and their open <details>).
    const list = $("journal");
    if (!list) return;
    const newest = entries.slice().reverse();
    const shown = [...list.children].map((li) => li.dataset.requestId);
    if (shown.join() === newest.map((e) => e.request_id).join()) return; // nothing new
    const have = new Map([...list.children].map((li) => [li.dataset.requestId, li]));
    list.replaceChildren(...newest.map((e) => have.get(e.request_id) || journalEntry(e)));
    setText("entry-count", String(newest.length));
    const empty = $("journal-empty");
    if (empty) {
      empty.hidden = newest.length > 0;
      if (emptyText) empty.textContent = emptyText;
    }
  }

  // ---- pages -----------------------------------------------------------------------
  function setText(id, text) {
    const el = $(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function renderClock(runtime) {
    setText("clock-now", seconds(runtime.now, "manual"));
    const speed = runtime.clock === "realtime" && runtime.speed !== 1 ? ` ×${runtime.speed}` : "";
    setText("clock-mode", runtime.clock + speed);
  }

  function jobRow(job, runtime) {
    const args = job.args || {};
    return h(
      "tr",
      { "data-id": job.id },
      h("td", { "data-label": "Job" },
        h("a", { class: "job-link", href: jobUrl(job.id), title: job.id }, shortId(job.id)),
        typeof args.prompt === "string" ? h("div", { class: "prompt" }, truncate(args.prompt, 90)) : null),
      h("td", { "data-label": "Key" }, h("code", { class: "key" }, job.key)),
      h("td", { "data-label": "Model", class: "model" }, job.model),
      h("td", { "data-label": "Mode" }, `${args.mode ?? ""} `, h("span", { class: "muted" }, args.action ?? "")),
      h("td", { "data-label": "Status" }, statusBadge(job.status), timeline(job.timeline, runtime.clock)),
      h("td", { "data-label": "Amount", class: "amount" }, `$${job.amount}`),
      h("td", { "data-label": "Age", class: "age", title: `created ${wall(job.created_wall)} UTC` },
        seconds(runtime.now - job.created_at, "manual")),
    );
  }

  let lastJobs = "";
  let lastRules = "";
  async function refreshJobs() {
    const table = $("jobs");
    const key = table.dataset.key || "";
    const model = table.dataset.model || ""; // filtered here, among the newest data-scan jobs
    const limit = model ? Number(table.dataset.scan || 500) : 100;
    const [clock, listed, scenarios, faults] = await Promise.all([
      api("GET", "/clock"),
      api("GET", `/jobs${query({ limit, key })}`),
      api("GET", "/scenarios"),
      api("GET", "/faults"),
    ]);
    renderClock(clock);
    const jobs = { jobs: listed.jobs.filter((job) => !model || job.model === model).slice(0, 100) };
    const signature = JSON.stringify([clock.now, clock.clock, jobs.jobs]);
    if (signature !== lastJobs) {
      lastJobs = signature;
      $("jobs-body").replaceChildren(...jobs.jobs.map((job) => jobRow(job, clock)));
      setText("job-count", String(jobs.jobs.length));
      $("jobs-empty").hidden = jobs.jobs.length > 0;
      const keys = $("known-keys");
      const known = new Set([...keys.children].map((o) => o.value));
      for (const job of jobs.jobs) {
        if (!known.has(job.key)) {
          known.add(job.key);
          keys.append(h("option", { value: job.key }));
        }
      }
    }
    const rules = JSON.stringify([scenarios, faults]);
    if (rules !== lastRules) {
      lastRules = rules;
      $("scenario-list").replaceChildren(...ruleItems(scenarios.scenarios));
      $("fault-list").replaceChildren(...ruleItems([...faults.faults, ...faults.random]));
    }
  }

  async function refreshRequests() {
    const list = $("journal");
    const filter = { limit: 500, key: list.dataset.key || "", outcome: list.dataset.outcome || "" };
    const [clock, journal] = await Promise.all([
      api("GET", "/clock"),
      api("GET", `/requests${query(filter)}`),
    ]);
    renderClock(clock);
    syncJournal(journal.requests, filter.key || filter.outcome ? "No requests match the filter." : "No requests.");
  }

  function delivery(d) {
    const data = d.body && typeof d.body.data === "object" && d.body.data ? d.body.data : null;
    let meta = `status ${data ? data.status : "-"}`;
    if (d.state === "pending") meta += ` · next at ${seconds(d.due_at, "manual")}`;
    const rows = d.attempts.length
      ? d.attempts.map((a) =>
          h("tr", {}, h("td", {}, a.attempt), h("td", {}, seconds(a.clock, "manual")), h("td", {}, wall(a.time)),
            h("td", {}, "status" in a ? a.status : a.error), h("td", {}, a.duration_ms)))
      : [h("tr", {}, h("td", { colspan: 5, class: "muted" }, "no attempt yet"))];
    return h(
      "article",
      { class: `delivery d-${d.state}` },
      h("div", { class: "entry-head" },
        h("span", { class: `state d-${d.state}` }, d.state), " ", h("span", {}, `#${d.id}`), " ",
        h("span", { class: "url" }, d.url), " ", h("span", { class: "muted" }, meta)),
      h("table", { class: "plain narrow attempts" },
        h("thead", {}, h("tr", {}, ["Attempt", "Clock", "Time (UTC)", "Answer", "ms"].map((t) => h("th", {}, t)))),
        h("tbody", {}, rows)),
      h("details", {}, h("summary", {}, "body"), h("pre", { class: "body" }, pretty(d.body))),
    );
  }

  function preview(kind, files, src, id) {
    if (kind === "images") {
      return [h("div", { class: "images", id: "images" },
        files.map((f, i) => h("a", { href: f.url }, h("img", { src: f.url, alt: `image ${i + 1}` }))))];
    }
    if (kind === "musics") {
      return [h("div", { class: "songs", id: "songs" },
        files.map((f, i) => h("figure", { class: "song" }, h("img", { src: f.cover, alt: `cover ${i + 1}` }),
          h("figcaption", {}, f.title), h("audio", { controls: true, preload: "metadata", src: f.url }))))];
    }
    return [
      h("video", { id: "video", controls: true, preload: "metadata", src }),
      h("p", {}, h("a", { href: src, download: true }, `Download ${id}.mp4`)),
    ];
  }

  function renderResult(job) {
    const section = $("result");
    const { video, kind, noun = "video", files } = $("job").dataset;
    if (job.status === 2) {
      if (!$("video") && !$("images") && !$("songs")) {
        section.replaceChildren(h("h2", {}, "Result"), ...preview(kind, JSON.parse(files || "[]"), video, job.id));
      }
      return;
    }
    const text = job.status === 3 ? `The job failed: no ${noun}.` : `No ${noun} yet: the job is ${statusName(job.status)}.`;
    section.replaceChildren(h("h2", {}, "Result"), h("p", { class: "muted", id: "no-video" }, text));
  }

  let lastJob = "";
  let lastDeliveries = "";
  async function refreshJob() {
    const id = $("job").dataset.id;
    const [clock, job, callbacks, journal] = await Promise.all([
      api("GET", "/clock"),
      api("GET", `/jobs/${encodeURIComponent(id)}`).catch((error) => {
        if (error.status === 404) return null;
        throw error;
      }),
      api("GET", `/callbacks${query({ job_id: id, limit: 1000 })}`),
      api("GET", `/requests${query({ job_id: id, limit: 500 })}`),
    ]);
    renderClock(clock);
    if (job === null) {
      $("job-status").replaceChildren(h("span", { class: "status gone" }, "gone (the mock was reset)"));
      return;
    }
    const signature = JSON.stringify([job.status, job.timeline, job.polls, clock.clock]);
    if (signature !== lastJob) {
      lastJob = signature;
      $("job-status").replaceChildren(statusBadge(job.status));
      setText("job-polls", String(job.polls));
      $("timeline-body").replaceChildren(
        ...job.timeline.map((step) => h("tr", {}, h("td", {}, statusBadge(step.status)), h("td", {}, seconds(step.at, clock.clock)))),
      );
      renderResult(job);
    }
    const deliveries = JSON.stringify(callbacks.callbacks);
    if (deliveries !== lastDeliveries) {
      lastDeliveries = deliveries;
      setText("delivery-count", String(callbacks.callbacks.length));
      if (callbacks.callbacks.length) {
        $("deliveries").replaceChildren(...callbacks.callbacks.map((d) => delivery(d)));
      }
    }
    syncJournal(journal.requests);
  }

  const refreshers = { jobs: refreshJobs, requests: refreshRequests, job: refreshJob };
  const refresh = refreshers[cfg.page];

  // ---- polling ---------------------------------------------------------------------
  let timer = null;
  let running = null;
  let again = false;

  function setLive(ok, error) {
    const live = $("live");
    if (!live) return;
    live.classList.toggle("down", !ok);
    live.textContent = ok ? "live" : "offline";
    live.title = ok ? "live: the page polls the admin API" : `cannot reach the admin API: ${error.message}`;
  }

  function schedule() {
    clearTimeout(timer);
    if (!document.hidden) timer = setTimeout(tick, cfg.pollMs);
  }

  function tick() {
    if (!refresh) return Promise.resolve();
    clearTimeout(timer);
    if (running) {
      again = true; // a control changed state meanwhile: poll once more right after
      return running;
    }
    running = refresh()
      .then(() => setLive(true), (error) => setLive(false, error))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          tick();
        } else {
          schedule();
        }
      });
    return running;
  }

  document.addEventListener("visibilitychange", () => (document.hidden ? clearTimeout(timer) : tick()));

  // ---- controls: each one calls the admin API --------------------------------------
  let flashTimer = null;
  function flash(text, ok) {
    const box = $("flash");
    box.textContent = text;
    box.className = `flash ${ok ? "ok" : "error"}`;
    box.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      box.hidden = true;
    }, ok ? 5000 : 15000);
  }

  const fmtNow = (now) => seconds(now, "manual");
  const countOf = (value) => (value === "" ? null : Number(value));

  function optionalKey(payload, key) {
    const trimmed = key.trim();
    if (trimmed) payload.key = trimmed;
    return payload;
  }

  const actions = {
    advance: async (el) => {
      const done = await api("POST", "/clock/advance", { seconds: Number(el.dataset.seconds) });
      return `Clock advanced to ${fmtNow(done.now)}`;
    },
    run: async () => {
      const done = await api("POST", "/run");
      return `Every job and callback done; clock at ${fmtNow(done.now)}`;
    },
    scenario: async (el) => {
      await api("POST", "/scenarios", { scenario: el.dataset.scenario, count: 1 });
      return `Scenario ${el.dataset.scenario} waits for the next job`;
    },
    complete: async (el) => {
      await api("POST", `/jobs/${encodeURIComponent(el.dataset.job)}/complete`);
      el.closest(".job-actions")?.remove();
      return "The job succeeded now";
    },
    fail: async (el) => {
      await api("POST", `/jobs/${encodeURIComponent(el.dataset.job)}/fail`, { reason: el.dataset.reason });
      el.closest(".job-actions")?.remove();
      return `The job failed now (${el.dataset.reason})`;
    },
    clear: async (el) => {
      await api("DELETE", `/${el.dataset.kind}`);
      return `Cleared ${el.dataset.kind}`;
    },
    reset: async () => {
      if (!window.confirm("Reset the mock? Every job, request, scenario, fault and callback is forgotten.")) return null;
      await api("POST", "/reset");
      return "The mock was reset";
    },
  };

  const forms = {
    advance: async (f) => {
      const done = await api("POST", "/clock/advance", { seconds: Number(f.get("seconds")) });
      return `Clock advanced to ${fmtNow(done.now)}`;
    },
    clock: async (f) => {
      const payload = { mode: f.get("mode") };
      if (f.get("speed")) payload.speed = Number(f.get("speed"));
      const done = await api("POST", "/clock", payload);
      return `Clock is ${done.clock}${done.clock === "realtime" ? ` ×${done.speed}` : ""}`;
    },
    scenario: async (f) => {
      const payload = optionalKey({ scenario: f.get("scenario"), count: countOf(f.get("count")) }, f.get("key"));
      const rule = await api("POST", "/scenarios", payload);
      return `Scenario ${rule.spec.scenario} added (${rule.remaining === null ? "every job" : `next ${rule.remaining}`})`;
    },
    fault: async (f) => {
      const payload = optionalKey(
        { fault: f.get("fault"), count: countOf(f.get("count")), endpoint: f.get("endpoint") },
        f.get("key"),
      );
      const rule = await api("POST", "/faults", payload);
      return `Fault ${rule.spec.fault} added (${rule.remaining === null ? "every request" : `next ${rule.remaining}`})`;
    },
  };

  async function perform(button, work) {
    if (button) button.disabled = true;
    try {
      const message = await work();
      if (message) {
        flash(message, true);
        await tick();
      }
    } catch (error) {
      flash(`Refused: ${error.message}`, false);
    } finally {
      if (button) button.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !actions[button.dataset.action]) return;
    event.preventDefault();
    perform(button, () => actions[button.dataset.action](button));
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const handler = forms[form.dataset.form];
    if (!handler) return; // the filter forms are plain GET forms
    event.preventDefault();
    perform(form.querySelector("button[type=submit]"), () => handler(new FormData(form)));
  });

  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    form.addEventListener("change", (event) => {
      if (event.target.tagName === "SELECT") form.requestSubmit();
    });
  }

  body.dataset.ready = "true"; // the controls are wired (tests wait for this)
  schedule();
})();
