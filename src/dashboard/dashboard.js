/* Footfall dashboard: one page over the statistics API. The read key stays in this tab's
   sessionStorage; every figure comes from /api/v1/stats/* (rollups), the course figures and
   the usage logs. No build step: plain JS, echarts and topojson-client vendored. */
(() => {
  "use strict";
  const API = "/api/v1";
  const STORE = "footfall-read-key";
  const ZONES = ["UTC", "Asia/Kolkata", "Europe/London", "Europe/Berlin", "America/New_York",
    "America/Los_Angeles", "Asia/Kathmandu", "Asia/Tokyo", "Australia/Sydney"];
  // [dimension, title, filter it sets when a row is clicked]
  const LISTS = [
    ["pages", "Pages", null], ["entry_pages", "Entry pages", null], ["exit_pages", "Exit pages", null],
    ["events", "Events", "event"], ["courses", "Courses", "course"], ["tutorials", "Tutorials", null],
    ["languages", "Languages", null], ["countries", "Countries", "country"], ["regions", "Regions", null],
    ["cities", "Cities", null], ["device_types", "Device types", "device"], ["browsers", "Browsers", null],
    ["operating_systems", "Operating systems", null], ["sources", "Sources", null],
    ["referring_domains", "Referring domains", null], ["referrers", "Referrers", null],
    ["campaigns", "Campaigns", null], ["paths", "Paths (first pages of a visit)", null],
    ["next_pages", "Next pages", null], ["exit_links", "Exit links", null],
  ];
  const KPIS = [["pageviews", "Page views"], ["visits", "Visits"], ["visitors", "Unique visitors"],
    ["first_time_visits", "First-time visits"], ["returning_visits", "Returning visits"],
    ["views_per_visit", "Views per visit"], ["visit_duration_s", "Visit duration"],
    ["bounce_rate", "Bounce rate"]];
  const $ = (id) => document.getElementById(id);
  const state = { filter: null, charts: {}, world: null, generation: 0 };

  // --- key and requests ---------------------------------------------------------------
  const key = () => sessionStorage.getItem(STORE);
  class SignedOut extends Error {}

  async function request(path, params = {}, accept = "application/json") {
    const url = new URL(API + path, location.origin);
    for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) url.searchParams.set(k, v);
    const response = await fetch(url, { headers: { "X-API-Key": key() || "", Accept: accept } });
    if (response.status === 401 || response.status === 403) {
      signOut(response.status === 401 ? "That key is unknown or revoked." : "That key has no read scope.");
      throw new SignedOut();
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      const error = new Error(problem.detail || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return accept === "application/json" ? response.json() : response.blob();
  }

  function signOut(message) {
    sessionStorage.removeItem(STORE);
    $("app").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
  }

  // --- controls and the URL -----------------------------------------------------------
  const today = (zone) => new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
  const addDays = (iso, n) => {
    const d = new Date(iso + "T12:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10);
  };

  function setupControls() {
    const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const zones = [...new Set([...ZONES, here])];
    $("zone").innerHTML = zones.map((z) => `<option>${z}</option>`).join("");
    const url = new URLSearchParams(location.search);
    $("zone").value = url.get("zone") || "UTC";
    $("bucket").value = url.get("bucket") || "day";
    $("bots").value = url.get("bots") || "exclude";
    $("end").value = url.get("end") || today($("zone").value);
    $("start").value = url.get("start") || addDays($("end").value, -6);
    for (const name of ["event", "course", "country", "device"]) {
      if (url.get(name)) state.filter = { name, value: url.get(name) };
    }
    for (const id of ["start", "end", "zone", "bucket", "bots", "compare"]) $(id).addEventListener("change", refresh);
    $("filter").addEventListener("click", () => { state.filter = null; refresh(); });
    $("signout").addEventListener("click", () => signOut());
  }

  function query() {
    const q = { start: $("start").value, end: addDays($("end").value, 1), zone: $("zone").value,
      bucket: $("bucket").value, bots: $("bots").value };
    if (state.filter) q[state.filter.name] = state.filter.value;
    return q;
  }

  function remember(q) {
    const url = new URLSearchParams({ ...q, end: $("end").value });
    history.replaceState(null, "", `${location.pathname}?${url}`);
  }

  // --- rendering ----------------------------------------------------------------------
  const fmt = (value, kind) => {
    if (value === null || value === undefined) return "–";
    if (kind === "bounce_rate") return `${(value * 100).toFixed(1)}%`;
    if (kind === "visit_duration_s") return value >= 60 ? `${Math.floor(value / 60)}m ${Math.round(value % 60)}s` : `${Math.round(value)}s`;
    if (kind === "views_per_visit") return value.toFixed(2);
    return Number(value).toLocaleString("en");
  };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  function renderKpis(body) {
    const before = body.previous && body.previous.totals;
    $("kpis").innerHTML = KPIS.map(([k, label]) => {
      const now = body.totals[k];
      let delta = "";
      if (before && before[k] !== null && now !== null && before[k] !== undefined) {
        const change = before[k] ? ((now - before[k]) / before[k]) * 100 : null;
        const better = k === "bounce_rate" ? change < 0 : change > 0;
        delta = change === null ? `<div class="delta">previous ${fmt(before[k], k)}</div>`
          : `<div class="delta ${change === 0 ? "" : better ? "up" : "down"}">${change >= 0 ? "+" : ""}${change.toFixed(1)}% vs previous</div>`;
      }
      return `<div class="kpi" data-kpi="${k}"><div class="label">${label}</div><div class="value">${fmt(now, k)}</div>${delta}</div>`;
    }).join("");
  }

  function chart(id, renderer = "canvas") {
    if (!state.charts[id]) {
      state.charts[id] = echarts.init($(id), null, { renderer });
      new ResizeObserver(() => state.charts[id].resize()).observe($(id));
    }
    return state.charts[id];
  }

  function renderSeries(body) {
    const zone = body.zone;
    const label = (iso) => {
      const d = new Date(iso);
      const opts = { timeZone: zone, month: "short", day: "numeric" };
      if (body.bucket === "hour") Object.assign(opts, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      if (body.bucket === "month") Object.assign(opts, { day: undefined, year: "numeric" });
      if (body.bucket === "year") return String(new Intl.DateTimeFormat("en", { timeZone: zone, year: "numeric" }).format(d));
      return new Intl.DateTimeFormat("en", opts).format(d);
    };
    const series = [
      { name: "Page views", type: "line", data: body.series.map((s) => s.pageviews), showSymbol: false },
      { name: "Visitors", type: "line", data: body.series.map((s) => s.visitors), showSymbol: false },
    ];
    if (body.previous) {
      series.push(
        { name: "Page views (previous)", type: "line", data: body.previous.series.map((s) => s.pageviews), lineStyle: { type: "dashed" }, showSymbol: false, color: "#5470c6" },
        { name: "Visitors (previous)", type: "line", data: body.previous.series.map((s) => s.visitors), lineStyle: { type: "dashed" }, showSymbol: false, color: "#91cc75" });
    }
    chart("chart").setOption({
      baseOption: {
        animation: false, tooltip: { trigger: "axis" }, legend: { top: 0 },
        grid: { left: 48, right: 16, top: 36, bottom: 28 },
        xAxis: { type: "category", data: body.series.map((s) => label(s.start)) },
        yAxis: { type: "value", minInterval: 1 }, series,
      },
      // A narrow chart wraps its legend onto a second line (every name in full, no pager).
      media: [{ query: { maxWidth: 560 }, option: { grid: { top: 60, left: 40, right: 12 } } }],
    }, true);
  }

  // The world atlas is unprojected longitude/latitude made for d3-geo: drawn as flat
  // polygons, the countries that cross the antimeridian (Russia, Fiji, Antarctica) would
  // smear lines across the map. echarts takes a d3 projection with its stream, which cuts
  // them at ±180° (and resamples edges); Equal Earth keeps areas true for a choropleth.
  const PROJECTION = d3.geoEqualEarth();
  const MAP_SCALE_BAND = 48; // px under the map for its colour scale (see .map in the CSS)

  async function world() {
    if (!state.world) {
      const topo = await (await fetch("vendor/countries-110m.json")).json();
      const geo = topojson.feature(topo, topo.objects.countries);
      state.world = Object.fromEntries(geo.features.map((f) => [f.id, f.properties.name]));
      echarts.registerMap("world", geo);
    }
    return state.world;
  }

  async function renderMap(body) {
    const names = await world();
    const countries = body.features.filter((f) => f.properties.kind === "country");
    const byName = {};
    const data = countries.map((f) => {
      const name = names[f.properties.iso_numeric] || f.properties.name;
      byName[name] = f.properties.iso_code;
      return { name, value: f.properties.pageviews, code: f.properties.iso_code };
    });
    const cities = body.features.filter((f) => f.properties.kind === "city" && f.geometry)
      .map((f) => ({ name: f.properties.name, value: [...f.geometry.coordinates, f.properties.pageviews] }));
    const top = Math.max(1, ...data.map((d) => d.value));
    const map = chart("map", "svg");
    map.setOption({
      baseOption: {
        animation: false,
        tooltip: { trigger: "item", formatter: (p) => `${esc(p.name)}: ${Array.isArray(p.value) ? p.value[2] : (p.value || 0)} views` },
        // A horizontal scale under the map, in a band of its own: it never covers land.
        visualMap: { seriesIndex: 0, min: 0, max: top, orient: "horizontal", left: "center", bottom: 6,
          itemWidth: 12, itemHeight: 160, inRange: { color: ["#e0ecff", "#1d4ed8"] }, text: [`${top} views`, "0"] },
        geo: {
          map: "world", roam: true, top: 0, bottom: MAP_SCALE_BAND, left: 0, right: 0, preserveAspect: "contain",
          projection: { project: (p) => PROJECTION(p), unproject: (p) => PROJECTION.invert(p), stream: PROJECTION.stream },
          itemStyle: { areaColor: "#f2f4f7", borderColor: "#c7ccd4" }, emphasis: { label: { show: false } },
        },
        series: [
          { type: "map", geoIndex: 0, data },
          { type: "scatter", coordinateSystem: "geo", data: cities, symbolSize: (v) => 4 + 14 * Math.sqrt(v[2] / Math.max(1, ...cities.map((c) => c.value[2]))), itemStyle: { color: "#f97316", opacity: 0.85 } },
        ],
      },
      // On a phone a finger dragging over the map must scroll the page, not pan the map.
      media: [{ query: { maxWidth: 600 }, option: { geo: { roam: false } } }],
    }, true);
    map.off("click");
    map.on("click", (p) => {
      const code = byName[p.name];
      if (p.seriesType === "map" && code) { state.filter = { name: "country", value: code }; refresh(); }
    });
  }

  // Shares are read from a legend beside the donut (full names, API percentages, wrapped
  // when long), not from slice labels, which a narrow panel cuts off. Rows past the top
  // ten are one grey slice, so the slices add up to the total.
  const PALETTE = ["#4f6bed", "#a3c83b", "#f4a340", "#4b5268", "#25b0d9", "#e5554f", "#8e5cc4", "#2fa36b", "#e07bbd", "#c9a227"];
  const REST = "#c7ccd4";

  function renderPie(dimension, body) {
    const slices = body.rows.map((r, i) => ({ name: r.value, value: r.count, percent: r.percent, color: PALETTE[i % PALETTE.length] }));
    if (body.other > 0) {
      slices.push({ name: "all others", value: body.other, percent: Math.round(10000 * body.other / body.total) / 100, color: REST });
    }
    const pie = chart(`pie-${dimension}`);
    pie.setOption({
      animation: false, tooltip: { trigger: "item", formatter: (p) => `${esc(p.name)}: ${p.value.toLocaleString("en")} (${p.data.percent}%)` },
      series: [{ type: "pie", radius: ["48%", "92%"], label: { show: false }, labelLine: { show: false },
        data: slices.map((s) => ({ name: s.name, value: s.value, percent: s.percent, itemStyle: { color: s.color } })) }],
    }, true);
    const legend = document.querySelector(`[data-legend="${dimension}"]`);
    legend.innerHTML = slices.map((s) => `<li><i class="swatch" style="background:${s.color}"></i>` +
      `<span class="name">${esc(s.name)}</span><span class="pct">${s.percent}%</span></li>`).join("") ||
      `<li class="more">nothing in this range</li>`;
    legend.querySelectorAll("li").forEach((li, dataIndex) => {
      li.onmouseenter = () => pie.dispatchAction({ type: "highlight", seriesIndex: 0, dataIndex });
      li.onmouseleave = () => pie.dispatchAction({ type: "downplay", seriesIndex: 0, dataIndex });
    });
  }

  function listPanel(dimension, title) {
    let panel = document.querySelector(`[data-list="${dimension}"]`);
    if (!panel) {
      panel = document.createElement("article");
      panel.className = "panel";
      panel.dataset.list = dimension;
      panel.innerHTML = `<h2>${title} <span class="exports" data-export="top/${dimension}"></span></h2><ul class="bars" data-dimension="${dimension}"></ul><div class="more"></div>`;
      $("lists").appendChild(panel);
    }
    return panel;
  }

  function renderList(dimension, title, filterName, body) {
    const panel = listPanel(dimension, title);
    const ul = panel.querySelector("ul");
    ul.innerHTML = body.rows.map((r) => {
      const name = r.name && dimension !== "cities" ? ` <small>${esc(r.name)}</small>` : "";
      return `<li class="${filterName ? "clickable" : ""}" data-value="${esc(r.value)}" title="${esc(r.value)}">` +
        `<div class="fill" style="width:${Math.min(100, r.percent)}%"></div><span>${esc(r.value)}${name}</span>` +
        `<span class="n">${r.count.toLocaleString("en")} · ${r.percent}%</span></li>`;
    }).join("") || `<li><span class="n">nothing in this range</span></li>`;
    panel.querySelector(".more").textContent = body.total ? `${body.total.toLocaleString("en")} ${body.counted} in all${body.other ? `, ${body.other.toLocaleString("en")} in other rows` : ""}` : "";
    if (filterName) {
      ul.querySelectorAll("li[data-value]").forEach((li) => li.addEventListener("click", () => {
        state.filter = { name: filterName, value: li.dataset.value }; refresh();
      }));
    }
  }

  function renderExports(q) {
    document.querySelectorAll("[data-export]").forEach((span) => {
      span.innerHTML = `<a data-format="csv">CSV</a><a data-format="json">JSON</a>`;
      span.querySelectorAll("a").forEach((a) => a.onclick = async () => {
        const path = `/stats/${span.dataset.export}`;
        const extra = path.startsWith("/stats/top") ? { limit: 1000 } : {};
        const blob = await request(path, { ...q, ...extra, format: a.dataset.format }, "*/*");
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = `footfall-${span.dataset.export.replace("/", "-")}.${a.dataset.format}`;
        link.click();
        URL.revokeObjectURL(link.href);
      });
    });
  }

  function table(rows, columns) {
    if (!rows.length) return `<p class="more">nothing yet</p>`;
    return `<table><tr>${columns.map(([, h, n]) => `<th class="${n ? "n" : ""}">${h}</th>`).join("")}</tr>` +
      rows.map((r) => `<tr>${columns.map(([k, , n]) => `<td class="${n ? "n" : ""}">${esc(r[k] ?? "–")}</td>`).join("")}</tr>`).join("") + "</table>";
  }

  async function renderTutorials(courses) {
    const course = state.filter && state.filter.name === "course" ? state.filter.value : courses.rows[0] && courses.rows[0].value;
    $("course-name").textContent = course ? `course ${course}` : "";
    if (!course) { $("tutorials").innerHTML = table([], []); return; }
    try {
      const body = await request(`/courses/${encodeURIComponent(course)}/figures`, { per_page: 50 });
      $("tutorials").innerHTML = table(body.tutorials.map((t) => ({ ...t, completion_rate: `${t.completion_rate}%` })), [
        ["tutorial_id", "Tutorial"], ["viewers", "Viewers", 1], ["completions", "Completed", 1],
        ["completion_rate", "Rate", 1], ["rewatchers", "Rewatchers", 1], ["average_visits", "Visits each", 1]]);
    } catch (error) {
      if (error instanceof SignedOut) throw error;
      $("tutorials").innerHTML = `<p class="more">no figures for ${esc(course)} (${esc(error.message)})</p>`;
    }
  }

  async function renderTools(q) {
    const body = await request("/usage-logs", { since: `${q.start}T00:00:00Z`, per_page: 500 });
    const tools = {};
    for (const s of body.items) {
      const t = tools[s.tool_id] ||= { tool_id: s.tool_id, sessions: 0, users: new Set(), seconds: 0, open: 0 };
      t.sessions += 1; t.users.add(s.user_id);
      if (s.end_dt) t.seconds += (new Date(s.end_dt) - new Date(s.start_dt)) / 1000; else t.open += 1;
    }
    const rows = Object.values(tools).sort((a, b) => b.sessions - a.sessions)
      .map((t) => ({ ...t, users: t.users.size, hours: (t.seconds / 3600).toFixed(1) }));
    $("tools").innerHTML = table(rows, [["tool_id", "Tool"], ["sessions", "Sessions", 1], ["users", "Users", 1], ["hours", "Hours", 1], ["open", "Online now", 1]]);
  }

  async function live() {
    if (!key() || $("app").hidden) return;
    try {
      const body = await request("/stats/live");
      $("live-views").textContent = body.pageviews;
      $("live-visitors").textContent = body.visitors;
    } catch (error) { if (!(error instanceof SignedOut)) $("live-views").textContent = "?"; }
  }

  async function refresh() {
    const generation = ++state.generation;
    const q = query();
    remember(q);
    const chip = $("filter");
    chip.hidden = !state.filter;
    if (state.filter) chip.textContent = `${state.filter.name}: ${state.filter.value} ✕`;
    $("status").textContent = "loading…";
    try {
      const [summary, map, ...lists] = await Promise.all([
        request("/stats/summary", { ...q, compare: $("compare").checked }),
        request("/stats/map", q),
        ...LISTS.map(([d]) => request(`/stats/top/${d}`, { ...q, limit: 10 })),
      ]);
      if (generation !== state.generation) return;
      renderKpis(summary);
      renderSeries(summary);
      await renderMap(map);
      LISTS.forEach(([d, title, filterName], i) => renderList(d, title, filterName, lists[i]));
      for (const d of ["device_types", "browsers", "operating_systems"]) renderPie(d, lists[LISTS.findIndex(([x]) => x === d)]);
      renderExports(q);
      await Promise.all([renderTutorials(lists[LISTS.findIndex(([x]) => x === "courses")]), renderTools(q)]);
      $("status").textContent = `updated ${new Date().toLocaleTimeString("en")}`;
      document.body.dataset.ready = String(generation);
    } catch (error) {
      if (!(error instanceof SignedOut)) $("status").textContent = `error: ${error.message}`;
    }
  }

  function start() {
    $("signin").hidden = true;
    $("app").hidden = false;
    refresh();
    live();
  }

  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(STORE, $("key").value.trim());
    $("key").value = "";
    start();
  });
  setupControls();
  setInterval(live, 10000);
  if (key()) start(); else signOut();
})();
