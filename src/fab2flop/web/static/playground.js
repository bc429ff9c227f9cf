// fab2flop playground: levers -> POST /v1/playground/solve -> charts. State lives in the URL.
"use strict";
(function () {
  const DEFAULTS = {
    budget_usd: 7e12, us_power_mw_per_year: null, us_grid_mw: null, merchant_share: 0.2,
    custom_designs: true, blockade: false, blockade_start: 2028, blockade_years: 0.5,
    discount_rate: 0.08,
  };
  const SLIDER_DEFAULT = { us_power_mw_per_year: 5000, us_grid_mw: 10000 };
  const BOOLS = ["custom_designs", "blockade"];
  const NULLABLE = ["us_power_mw_per_year", "us_grid_mw"];
  const state = Object.assign({}, DEFAULTS);
  let session = null, inFlight = false, pending = false, solves = 0;
  const $ = (id) => document.getElementById(id);

  function fmtUsd(x) {
    const a = Math.abs(x);
    for (const [d, s] of [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]]) {
      if (a >= d) return "$" + (x / d).toFixed(2) + s;
    }
    return "$" + x.toFixed(0);
  }
  function fmtNum(x) {
    const a = Math.abs(x);
    for (const [d, s] of [[1e9, "G"], [1e6, "M"], [1e3, "k"]]) {
      if (a >= d) return (x / d).toFixed(1) + s;
    }
    return x.toFixed(0);
  }
  function fmtLever(k, v) {
    if (v === null) return "catalog";
    if (k === "budget_usd") return fmtUsd(v);
    if (k === "merchant_share" || k === "discount_rate") return (v * 100).toFixed(1) + "%";
    if (k === "us_power_mw_per_year") return (v / 1000).toFixed(1) + " GW/yr";
    if (k === "us_grid_mw") return (v / 1000).toFixed(1) + " GW";
    if (k === "blockade_start") return String(v);
    if (k === "blockade_years") return v + " yr";
    return String(v);
  }

  function readUrl() {
    const q = new URLSearchParams(window.location.search);
    for (const k of Object.keys(DEFAULTS)) {
      if (!q.has(k)) continue;
      const raw = q.get(k);
      if (BOOLS.includes(k)) state[k] = raw === "1" || raw === "true";
      else if (raw === "" || raw === "catalog") state[k] = NULLABLE.includes(k) ? null : DEFAULTS[k];
      else if (!Number.isNaN(Number(raw))) state[k] = Number(raw);
    }
  }
  function query() {
    const q = new URLSearchParams();
    for (const k of Object.keys(DEFAULTS)) {
      const v = state[k];
      if (v === DEFAULTS[k]) continue;
      if (v === null) continue;
      q.set(k, BOOLS.includes(k) ? (v ? "1" : "0") : String(v));
    }
    return q.toString();
  }
  function apiQuery() {  // the YAML download: every set lever, in the API's names
    const q = new URLSearchParams();
    for (const k of Object.keys(DEFAULTS)) {
      if (state[k] !== null) q.set(k, String(state[k]));
    }
    return q.toString();
  }

  function paintLevers() {
    for (const k of Object.keys(DEFAULTS)) {
      const el = $(k);
      if (BOOLS.includes(k)) { el.checked = state[k]; continue; }
      const scale = Number(el.dataset.scale || 1);
      const v = state[k] === null ? SLIDER_DEFAULT[k] : state[k];
      el.value = String(v / scale);
      const out = $(k + "-out");
      if (out) out.textContent = fmtLever(k, state[k]);
      const cat = $(k + "-catalog");
      if (cat) cat.checked = state[k] === null;
    }
    $("blockade_start").disabled = $("blockade_years").disabled = !state.blockade;
    const qs = query();
    const url = window.location.pathname + (qs ? "?" + qs : "");
    window.history.replaceState(null, "", url);
    $("share").href = url;
    $("download").href = "/v1/playground/scenario.yaml?" + apiQuery();
  }

  function onInput(ev) {
    const el = ev.target;
    let k = el.id;
    if (k.endsWith("-catalog")) {
      k = k.slice(0, -"-catalog".length);
      state[k] = el.checked ? null : Number($(k).value);
    } else if (BOOLS.includes(k)) {
      state[k] = el.checked;
    } else {
      state[k] = Number(el.value) * Number(el.dataset.scale || 1);
    }
    paintLevers();
    solve();
  }

  function setStatus(kind, text) {
    const s = $("status");
    s.dataset.state = kind;
    s.textContent = text;
  }

  async function solve() {
    if (inFlight) { pending = true; return; }
    inFlight = true; pending = false;
    setStatus("loading", "solving…");
    const body = { session: session, levers: Object.assign({}, state) };
    const t0 = performance.now();
    try {
      const r = await fetch("/v1/playground/solve", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      if (r.status === 429) { pending = true; setStatus("loading", "server busy, retrying…"); await new Promise((res) => setTimeout(res, 500)); }
      else if (!r.ok) { const e = await r.json(); setStatus("error", "error: " + JSON.stringify(e.detail)); }
      else {
        const out = await r.json();
        session = out.session;
        render(out);
        solves += 1;
        $("status").dataset.solves = String(solves);
        const ms = performance.now() - t0;
        if (!pending) setStatus("ready", out.mode + " solve, " + ms.toFixed(0) + " ms round trip (" + out.simplex_iterations + " simplex iterations)");
      }
    } catch (e) {
      setStatus("error", "error: " + e);
    } finally {
      inFlight = false;
      if (pending) solve();
    }
  }

  const PALETTE = ["#14213d", "#fca311", "#2a9d8f", "#e76f51", "#8ab17d", "#6d597a", "#e9c46a", "#264653", "#b56576", "#999"];

  function render(out) {
    if (out.status !== "optimal") {
      $("headline").textContent = "no plan: " + out.status;
      $("subline").textContent = "";
      return;
    }
    const years = out.years, n = years.length;
    const last = out.compute_h100e[n - 1];
    $("headline").textContent = fmtNum(last) + " H100e in " + years[n - 1];
    $("subline").textContent = "spends " + fmtUsd(out.spend_total_usd) + " of " + fmtUsd(out.funding_total_usd) + " funded";
    const layout = (title, ytitle) => ({
      title: { text: title, font: { size: 14 } }, margin: { l: 60, r: 10, t: 40, b: 40 },
      yaxis: { title: { text: ytitle } }, legend: { orientation: "h", y: -0.15, font: { size: 10 } },
      barmode: "stack", paper_bgcolor: "rgba(0,0,0,0)",
    });
    const cfg = { displaylogo: false, responsive: true };
    Plotly.react("chart-compute", [{
      x: years, y: out.compute_h100e, type: "bar", name: "installed compute", marker: { color: "#14213d" },
    }], layout("Installed compute by year", "H100-equivalents"), cfg);
    const cats = Object.keys(out.spend_by_category_usd);
    Plotly.react("chart-spend", cats.map((c, i) => ({
      x: years, y: out.spend_by_category_usd[c], type: "bar", name: c.replace(/_/g, " "),
      marker: { color: PALETTE[i % PALETTE.length] },
    })), layout("Spend by year", "USD"), cfg);
    const ol = $("binds");
    ol.replaceChildren();
    for (const g of out.binds || []) {
      const li = document.createElement("li");
      const name = document.createElement("div");
      name.className = "name";
      const span = g.first_period === g.last_period ? g.first_period : g.first_period + "–" + g.last_period;
      name.textContent = g.constraint + ": " + g.item + (g.region ? " (" + g.region + ")" : "") + ", " + span;
      const d = document.createElement("div");
      d.textContent = g.first.description;
      li.append(name, d);
      ol.append(li);
    }
  }

  readUrl();
  paintLevers();
  for (const el of document.querySelectorAll("#levers input")) el.addEventListener("input", onInput);
  solve();
})();
