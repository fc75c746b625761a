// The emulator's web console: plain JavaScript, no build step. It calls the APIs and /_emulator with the
// credentials the user signs in with (kept in sessionStorage for this tab only).
"use strict";

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
};
const SVG = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}, text) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
};

let auth = sessionStorage.getItem("ionos-emulator-auth") || "";
let apis = [];

async function call(method, url, body) {
  const opts = { method, headers: { Authorization: auth } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(url, opts);
  const text = await r.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = text; }
  if (!r.ok) {
    const msg = doc && doc.messages ? doc.messages.map((m) => m.message).join("; ") : String(text).slice(0, 300);
    throw new Error(`${r.status}: ${msg}`);
  }
  return doc;
}
const admin = (method, path, body) => call(method, `/_emulator/${path}`, body);

// -- sign in ------------------------------------------------------------------------------------------
async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const token = form.token.value.trim();
  auth = token ? `Bearer ${token}` : "Basic " + btoa(`${form.user.value}:${form.password.value}`);
  try {
    await start();
    sessionStorage.setItem("ionos-emulator-auth", auth);
    $("#signin-error").textContent = "";
  } catch (e) {
    auth = "";
    $("#signin-error").textContent = `Sign-in failed (${e.message})`;
  }
}

async function start() {
  const contracts = await call("GET", "/cloudapi/v6/contracts");
  const contract = (contracts.items || [contracts])[0];
  const number = contract && contract.properties ? contract.properties.contractNumber : "?";
  $("#who").textContent = `contract ${number}`;
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#signout").hidden = false;
  apis = await admin("GET", "apis");
  fillApis();
  await loadDatacenters();
  pollJournal();
}

function signOut() {
  sessionStorage.removeItem("ionos-emulator-auth");
  location.reload();
}

// -- tabs ---------------------------------------------------------------------------------------------
function showTab(name) {
  for (const b of document.querySelectorAll("nav button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const t of document.querySelectorAll(".tab")) t.hidden = t.id !== `tab-${name}`;
  if (name === "controls") loadControls();
  if (name === "resources") loadCollection();
}

// -- JSON with clickable hrefs ---------------------------------------------------------------------------
function showJson(target, doc) {
  target.textContent = "";
  const text = JSON.stringify(doc, null, 2);
  const parts = text.split(/("href": "[^"]+")/);
  for (const part of parts) {
    const m = part.match(/^"href": "([^"]+)"$/);
    if (!m) { target.append(part); continue; }
    const url = new URL(m[1], location.origin);
    target.append('"href": "');
    if (url.origin === location.origin) {
      target.append(el("a", { href: "#", text: m[1], onclick: async (e) => { e.preventDefault(); showJson(target, await call("GET", url.pathname + url.search)); } }));
    } else target.append(m[1]);
    target.append('"');
  }
}

// -- data centers, drawn as the Data Center Designer draws them ----------------------------------------------
async function loadDatacenters() {
  const list = await call("GET", "/cloudapi/v6/datacenters?depth=1");
  const select = $("#dc-select");
  const chosen = select.value;
  select.textContent = "";
  for (const dc of list.items) select.append(el("option", { value: dc.id, text: `${dc.properties.name} (${dc.properties.location})` }));
  if (chosen && list.items.some((d) => d.id === chosen)) select.value = chosen;
  if (list.items.length) await drawDatacenter(select.value);
  else { $("#dc-drawing").textContent = "No data centers yet."; $("#dc-detail").textContent = ""; }
}

function lanIdsOf(item) {
  const p = item.properties || {};
  if (item.type === "server") return ((item.entities || {}).nics || { items: [] }).items.map((n) => String(n.properties.lan));
  if (item.type === "natgateway") return (p.lans || []).map((l) => String(l.id));
  if (p.listenerLan !== undefined) return [String(p.listenerLan), String(p.targetLan)];
  return [];
}

async function drawDatacenter(id) {
  const dc = await call("GET", `/cloudapi/v6/datacenters/${id}?depth=4`);
  const ents = dc.entities || {};
  const items = (name) => ((ents[name] || {}).items || []);
  const lans = items("lans");
  const boxes = [
    ...items("servers").map((s) => ({ kind: "server", item: s })),
    ...items("natgateways").map((s) => ({ kind: "natgateway", item: s })),
    ...items("networkloadbalancers").map((s) => ({ kind: "lb", item: s })),
    ...items("applicationloadbalancers").map((s) => ({ kind: "lb", item: s })),
    ...items("loadbalancers").map((s) => ({ kind: "lb", item: s })),
  ];
  const width = Math.max(720, 40 + boxes.length * 215);
  const lanTop = 90, lanGap = 36;
  const boxTop = lanTop + Math.max(lans.length, 1) * lanGap + 40;
  const height = boxTop + 170;
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  root.append(svg("title", {}, `Data center ${dc.properties.name}`));
  const internet = svg("g", { "data-id": "internet" });
  internet.append(svg("ellipse", { cx: width / 2, cy: 32, rx: 70, ry: 22, class: "internet" }), svg("text", { x: width / 2, y: 36, "text-anchor": "middle" }, "Internet"));
  root.append(internet);
  const lanY = {};
  lans.forEach((lan, i) => {
    const y = lanTop + i * lanGap;
    lanY[String(lan.id)] = y;
    const g = svg("g", { "data-id": lan.id, "data-type": "lan" });
    g.append(svg("line", { x1: 20, y1: y, x2: width - 20, y2: y, class: `lan${lan.properties.public ? " public" : ""}` }));
    g.append(svg("text", { x: 24, y: y - 6 }, `LAN ${lan.id} ${lan.properties.name || ""}${lan.properties.public ? " (public)" : ""}`));
    if (lan.properties.public) g.append(svg("line", { x1: width / 2, y1: 54, x2: width / 2, y2: y, class: "wire" }));
    g.addEventListener("click", () => showJson($("#dc-detail"), lan));
    root.append(g);
  });
  boxes.forEach((b, i) => {
    const x = 30 + i * 215, w = 195, item = b.item, p = item.properties || {};
    const g = svg("g", { "data-id": item.id, "data-type": item.type });
    g.append(svg("rect", { x, y: boxTop, width: w, height: 130, class: `box ${b.kind}` }));
    g.append(svg("text", { x: x + 8, y: boxTop + 18, "font-weight": "bold" }, p.name || item.type));
    const lines = [];
    if (b.kind === "server") {
      lines.push(`${p.type || "ENTERPRISE"} ${p.cores || ""}c ${p.ram ? p.ram / 1024 : "?"} GB`);
      for (const v of ((item.entities || {}).volumes || { items: [] }).items) lines.push(`▪ ${v.properties.name || "volume"} ${v.properties.size} GB`);
      lines.push(`state ${(item.metadata || {}).state || ""} / ${p.vmState || ""}`);
    } else lines.push(item.type, `state ${(item.metadata || {}).state || ""}`);
    lines.slice(0, 6).forEach((t, k) => g.append(svg("text", { x: x + 8, y: boxTop + 38 + k * 16 }, t)));
    lanIdsOf(item).forEach((lan, k) => {
      if (lanY[lan] === undefined) return;
      const cx = x + 24 + k * 18;  // one wire per NIC (or listener and target), side by side
      root.append(svg("line", { x1: cx, y1: boxTop, x2: cx, y2: lanY[lan], class: "wire", "data-from": item.id, "data-lan": lan }));
      root.append(svg("circle", { cx, cy: lanY[lan], r: 4, fill: "#516079" }));
    });
    g.addEventListener("click", () => showJson($("#dc-detail"), item));
    root.append(g);
  });
  $("#dc-drawing").textContent = "";
  $("#dc-drawing").append(root);
  showJson($("#dc-detail"), { id: dc.id, type: dc.type, metadata: dc.metadata, properties: dc.properties });
}

// -- resources of every API -------------------------------------------------------------------------------
function fillApis() {
  const select = $("#api-select");
  select.textContent = "";
  apis.forEach((a, i) => select.append(el("option", { value: i, text: `${a.name}${a.location ? " " + a.location : ""}` })));
  fillCollections();
}

function fillCollections() {
  const api = apis[$("#api-select").value];
  const select = $("#coll-select");
  select.textContent = "";
  for (const c of api ? api.collections : []) select.append(el("option", { value: c, text: c }));
}

let listed = [];
async function loadCollection() {
  const api = apis[$("#api-select").value];
  const coll = $("#coll-select").value;
  const list = $("#res-list");
  list.textContent = "";
  if (!api || !coll) return;
  try {
    const doc = await call("GET", `${api.prefix}${coll}${api.name === "cloud" ? "?depth=1" : ""}`);
    listed = Array.isArray(doc) ? doc : (doc.items || doc.data || [doc]);
  } catch (e) {
    listed = [];
    list.append(el("li", { text: e.message }));
  }
  renderList();
}

function renderList() {
  const q = $("#res-search").value.toLowerCase();
  const list = $("#res-list");
  list.textContent = "";
  for (const item of listed) {
    if (q && !JSON.stringify(item).toLowerCase().includes(q)) continue;
    const p = item.properties || {};
    const name = p.name || p.zoneName || p.displayName || p.email || p.username || item.id || item.name || "(item)";
    const state = (item.metadata || {}).state || (item.metadata || {}).status || "";
    list.append(el("li", { onclick: () => showJson($("#res-detail"), item) }, el("span", { text: name }), el("span", { class: "state", text: state })));
  }
}

// -- journal ---------------------------------------------------------------------------------------------
let journalAfter = 0;
let journalTimer = null;
async function pollJournal() {
  clearTimeout(journalTimer);
  if ($("#journal-live").checked && !$("#app").hidden) {
    try {
      const entries = await admin("GET", `journal?after=${journalAfter}&limit=200`);
      const body = $("#journal-table tbody");
      for (const e of entries) {
        journalAfter = Math.max(journalAfter, e.seq);
        const row = el("tr", { class: `s${String(e.status)[0]}`, "data-text": `${e.method} ${e.status} ${e.url}`.toLowerCase(), onclick: () => showJson($("#journal-detail"), e) },
          el("td", { text: e.time.slice(11, 23) }), el("td", { text: e.status }), el("td", { text: e.method }),
          el("td", { class: "url", text: e.url }), el("td", { text: e.duration_ms.toFixed(1) }), el("td", { text: e.caller }));
        body.prepend(row);
      }
      while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
      filterJournal();
    } catch (e) { /* the emulator may be restarting: try again */ }
  }
  journalTimer = setTimeout(pollJournal, 1000);
}
function filterJournal() {
  const q = $("#journal-filter").value.toLowerCase();
  for (const row of $("#journal-table tbody").rows) row.hidden = q && !row.dataset.text.includes(q);
}

// -- controls ---------------------------------------------------------------------------------------------
const say = (text) => { $("#controls-status").textContent = text; };
async function loadControls() {
  const timing = await admin("GET", "timing");
  $("#timing-profile").value = timing.profile;
  $("#timing-state").textContent = `now ${timing.profile}`;
  const chaos = await admin("GET", "chaos");
  const list = $("#chaos-list");
  list.textContent = "";
  for (const r of chaos.rules) list.append(el("li", { text: `${r.api} ${r.operation} ${r.method} ${r.path || ""} p=${r.probability} → ${r.effect} ${r.status || r.latencyMs || ""} (applied ${r.applied})` }));
  const snaps = await admin("GET", "snapshots");
  const sl = $("#snapshot-list");
  sl.textContent = "";
  for (const s of snaps) {
    sl.append(el("li", {}, el("span", { text: `${s.name} (${s.created}, ${s.bytes} bytes)` }),
      el("button", { text: "Load", "data-snapshot": s.name, onclick: async (e) => { e.stopPropagation(); await admin("POST", `snapshots/${encodeURIComponent(s.name)}/load`); say(`loaded snapshot ${s.name}`); await loadDatacenters(); } }),
      el("button", { text: "Delete", onclick: async (e) => { e.stopPropagation(); await admin("DELETE", `snapshots/${encodeURIComponent(s.name)}`); loadControls(); } })));
  }
}

async function addChaos(event) {
  event.preventDefault();
  const f = event.target;
  const rule = { api: f.api.value || "*", operation: f.operation.value || "*", method: f.method.value || "*", path: f.path.value, probability: Number(f.probability.value || 1), times: Number(f.times.value || 0) };
  if (f.status.value) rule.status = Number(f.status.value);
  if (f.latencyMs.value) rule.latencyMs = Number(f.latencyMs.value);
  try { await admin("POST", "chaos", rule); say("chaos rule added"); } catch (e) { say(e.message); }
  loadControls();
}

function guard(fn) {
  return async (...args) => { try { await fn(...args); } catch (e) { say(e.message); } };
}

document.addEventListener("DOMContentLoaded", () => {
  $("#signin-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", signOut);
  for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#dc-select").addEventListener("change", guard(() => drawDatacenter($("#dc-select").value)));
  $("#dc-refresh").addEventListener("click", guard(loadDatacenters));
  $("#api-select").addEventListener("change", () => { fillCollections(); loadCollection(); });
  $("#coll-select").addEventListener("change", loadCollection);
  $("#res-search").addEventListener("input", renderList);
  $("#journal-filter").addEventListener("input", filterJournal);
  $("#journal-live").addEventListener("change", pollJournal);
  $("#journal-clear").addEventListener("click", guard(async () => { await admin("DELETE", "journal"); $("#journal-table tbody").textContent = ""; }));
  $("#timing-apply").addEventListener("click", guard(async () => { await admin("PATCH", "timing", { profile: $("#timing-profile").value }); say("timing set"); loadControls(); }));
  $("#chaos-form").addEventListener("submit", addChaos);
  $("#chaos-clear").addEventListener("click", guard(async () => { await admin("DELETE", "chaos"); say("no chaos rules"); loadControls(); }));
  $("#snapshot-form").addEventListener("submit", guard(async (e) => { e.preventDefault(); await admin("POST", "snapshots", { name: e.target.name.value }); say(`saved snapshot ${e.target.name.value}`); loadControls(); }));
  $("#reset").addEventListener("click", guard(async () => { if (!confirm("Reset every contract's state?")) return; await admin("POST", "reset"); say("the emulator was reset"); await loadDatacenters(); }));
  if (auth) start().catch(() => { auth = ""; sessionStorage.removeItem("ionos-emulator-auth"); });
});
