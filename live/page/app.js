// The live page: one event stream (server-sent events, read with fetch so
// that the token travels in a header), resumed from the last event it saw
// whenever the connection drops.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let token = "", lastId = 0, info = null, t0Clock = null;

  // A role's link carries its token after "#": the browser never sends that
  // part. It is kept in this tab only and taken out of the address bar.
  function takeToken() {
    const m = location.hash.match(/^#(?:token=)?([0-9a-f]{16,})$/);
    if (m) {
      sessionStorage.setItem("gameday-token", m[1]);
      history.replaceState(null, "", location.pathname);
    }
    return sessionStorage.getItem("gameday-token") || "";
  }

  function api(path, body) {
    const opts = { headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts);
  }

  async function act(path, body) {
    const r = await api(path, body || {});
    const text = await r.text();
    let msg = text;
    try { msg = JSON.parse(text).message || (r.ok ? "done" : text); } catch (e) { /* plain text */ }
    $("said").textContent = (r.ok ? "" : r.status + ": ") + msg;
    return r.ok;
  }

  function show(kind, ev) {
    const d = ev.data;
    switch (kind) {
      case "info": return showInfo(d);
      case "entry": return addEntry(d);
      case "state": return showState(d);
      case "debrief": return showDebrief(d);
    }
  }

  function showInfo(d) {
    if (info) { // the command's next run (a replay's next topology): start over
      $("timeline").textContent = "";
      $("services").textContent = "";
      $("journeys").textContent = "";
      $("debrief").hidden = true;
      $("live").hidden = false;
      delete document.body.dataset.view;
    }
    info = d;
    $("scenario").textContent = d.scenario;
    $("where").textContent = (d.game ? "game day" : "replay") + " on " + d.topology + " · cluster " + d.cluster;
    loadCurveballs();
  }

  // The curveballs come only to the facilitator, from /api/me: the stream
  // every viewer gets (players may watch) does not name them.
  async function loadCurveballs() {
    const r = await api("/api/me");
    const balls = r.ok ? ((await r.json()).curveballs || []) : [];
    const sel = $("curveball");
    sel.textContent = "";
    for (const c of balls) {
      const o = document.createElement("option");
      o.value = o.textContent = c;
      sel.appendChild(o);
    }
    $("inject-box").hidden = !balls.length;
  }

  function addEntry(d) {
    const tl = $("timeline");
    tl.insertAdjacentHTML("afterbegin", d.html);
  }

  function states(list, map) {
    const ul = $(list);
    for (const [name, state] of Object.entries(map || {}).sort()) {
      let li = ul.querySelector('[data-name="' + CSS.escape(name) + '"]');
      if (!li) {
        li = document.createElement("li");
        li.dataset.name = name;
        ul.appendChild(li);
      }
      li.className = state;
      li.dataset.state = state;
      li.textContent = name + ": " + state;
    }
  }

  function showState(d) {
    const c = Math.max(0, Math.floor(d.clock));
    $("clock").textContent = d.clock > 0 ? Math.floor(c / 60) + ":" + String(c % 60).padStart(2, "0") : "--:--";
    states("services", d.services);
    states("journeys", d.journeys);
    const pools = $("pools");
    pools.textContent = "";
    const byPool = {};
    for (const n of d.nodes || []) (byPool[n.pool || "?"] = byPool[n.pool || "?"] || []).push(n);
    for (const p of (info && info.pools) || []) byPool[p.name] = byPool[p.name] || [];
    for (const [pool, nodes] of Object.entries(byPool).sort()) {
      const div = document.createElement("div");
      div.className = "pool";
      const h = document.createElement("h3");
      const spare = info && (info.pools || []).some((p) => p.name === pool && p.spare);
      h.textContent = pool + (spare ? " (spare)" : "") + (nodes.filter((n) => !n.gone).length ? "" : ": no node joined");
      div.appendChild(h);
      for (const n of nodes) {
        const s = document.createElement("span");
        const cls = n.gone ? "gone" : !n.ready ? "notready" : !n.inService ? "out" : !n.schedulable ? "cordoned" : "ready";
        s.className = "node " + cls;
        s.dataset.state = cls;
        s.textContent = n.name.replace(/^.*-(worker\d*|control-plane)$/, "$1") + " " + cls;
        s.title = n.name;
        div.appendChild(s);
      }
      pools.appendChild(div);
    }
    const goals = $("goals");
    goals.textContent = "";
    for (const g of d.goals || []) {
      const li = document.createElement("li");
      li.className = g.reached ? "reached" : "";
      li.textContent = g.text + (g.reached ? " ✓ at " + Math.round(g.atSeconds) + " s" : "");
      goals.appendChild(li);
    }
    const sc = [];
    if (d.score != null) sc.push("system score so far " + d.score.toFixed(1) + "/100");
    if (d.teamScore != null) sc.push("team score so far " + d.teamScore.toFixed(1) + "/100");
    $("scores").textContent = sc.join(" · ");
    if (info && info.hints) $("hints").textContent = (d.hintsReleased || 0) + " of " + info.hints + " hints released";
  }

  async function showDebrief() {
    const r = await api("/debrief");
    if (!r.ok) return;
    const html = await r.text();
    $("debrief-frame").srcdoc = html;
    $("debrief").hidden = false;
    $("live").hidden = true;
    $("note-form").hidden = true;
    $("facilitator").hidden = true;
    document.body.dataset.view = "debrief";
  }

  // The stream: each event is "id:", "event:", "data:" lines and a blank
  // line. On any drop, reconnect from the last ID seen.
  async function stream() {
    for (;;) {
      try {
        const headers = { Authorization: "Bearer " + token };
        if (lastId) headers["Last-Event-ID"] = String(lastId);
        const r = await fetch("/events", { headers });
        if (r.status === 401) { signOut(); return; }
        if (!r.ok) throw new Error(r.status);
        $("conn").textContent = "live";
        $("conn").className = "badge live";
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let id = 0, kind = "message", data = "";
            for (const l of block.split("\n")) {
              if (l.startsWith("id: ")) id = Number(l.slice(4));
              else if (l.startsWith("event: ")) kind = l.slice(7);
              else if (l.startsWith("data: ")) data += l.slice(6);
            }
            if (!data) continue;
            if (id) lastId = id;
            show(kind, JSON.parse(data));
          }
        }
      } catch (e) { /* dropped: try again */ }
      $("conn").textContent = "reconnecting";
      $("conn").className = "badge lost";
      await new Promise((res) => setTimeout(res, 1000));
    }
  }

  function signOut() {
    sessionStorage.removeItem("gameday-token");
    $("signin").hidden = false;
    $("live").hidden = true;
    $("conn").textContent = "not signed in";
  }

  async function start() {
    token = takeToken();
    if (!token) { signOut(); return; }
    const r = await api("/api/me");
    if (!r.ok) { signOut(); return; }
    const me = await r.json();
    $("role").textContent = me.role;
    document.body.dataset.role = me.role;
    $("signin").hidden = true;
    $("live").hidden = false;
    $("facilitator").hidden = !(me.may || []).includes("end");
    $("note-form").hidden = !(me.may || []).includes("note");
    stream();
  }

  $("signin").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("gameday-token", $("token").value.trim());
    start();
  });
  $("hint").addEventListener("click", () => act("/api/hint"));
  $("end").addEventListener("click", () => { if (confirm("End the game now? What is still broken counts.")) act("/api/end"); });
  $("stop").addEventListener("click", () => { if (confirm("Stop everything and recover the cluster now?")) act("/api/stop"); });
  $("inject").addEventListener("click", () => act("/api/inject", { step: $("curveball").value }));
  $("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("note").value.trim();
    if (!text) return;
    if (await act("/api/note", { text, kind: $("note-kind").value, by: $("note-by").value })) $("note").value = "";
  });
  start();
})();
