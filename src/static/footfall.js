/*! Footfall in-page script (MIT). Readable source; Footfall serves footfall.min.js, built from
 * this file by scripts/build-js. Docs: docs/clients/script.md */
(function (w, d, nav) {
  "use strict";
  var P = "footfall:"; // localStorage keys: q (queue), fv (first visit), dropped, rejected, optout
  var DOWNLOADS = /\.(pdf|zip|gz|tgz|bz2|xz|rar|7z|tar|docx?|xlsx?|pptx?|od[tsp]|csv|epub|mp3|mp4|webm|ogg|ogv|avi|mov|mkv|exe|dmg|msi|deb|rpm|apk|iso)$/i;
  var ls = null;
  try {
    ls = w.localStorage;
    ls.setItem(P + "t", "1");
    ls.removeItem(P + "t");
  } catch (e) {
    ls = null; // storage blocked: events live in memory only
  }
  var cfg, queue = [], done = {}, inflight = {}, timer = 0, due = 0, retryAt = 0, backoff = 0;
  var token, view, pending, lastPath, visitId = id();

  function get(k) {
    try { return ls && ls.getItem(P + k); } catch (e) { return null; }
  }
  function set(k, v) {
    try { if (ls) v == null ? ls.removeItem(P + k) : ls.setItem(P + k, v); } catch (e) { /* full */ }
  }
  function count(k, n) {
    set(k, (+get(k) || 0) + n);
  }
  function id() {
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function now() {
    return new Date().toISOString();
  }
  function flag(v) {
    return v === true || v === "" || v === "true";
  }
  function path() {
    return (location.pathname + location.search).slice(0, 2048);
  }
  function title() {
    return d.title.slice(0, 512);
  }
  function off() {
    return !cfg || get("optout") || (cfg.dnt && (nav.doNotTrack == "1" || w.doNotTrack == "1" || nav.globalPrivacyControl));
  }

  // The queue: in localStorage, so that what a page could not send (offline, 5xx, 429, the
  // page closed mid-request) is sent later by any page of the site. Other tabs share it, so
  // a save merges what they stored; an item leaves only once a receipt names it.
  function stored() {
    try { return JSON.parse(get("q")) || []; } catch (e) { return []; }
  }
  function save() {
    var have = {};
    queue.forEach(function (e) { have[e.log_id] = 1; });
    stored().forEach(function (e) { if (!have[e.log_id] && !done[e.log_id]) queue.push(e); });
    if (queue.length > cfg.max) count("dropped", queue.splice(0, queue.length - cfg.max).length);
    set("q", JSON.stringify(queue));
  }
  function emit(kind, data) {
    if (off()) return;
    var e = Object.assign({ kind: kind, log_id: id() }, data);
    if (token) e._t = token; // the learner token the event was made under (a header when sent)
    queue.push(e);
    save();
    schedule(cfg.wait);
    return e.log_id;
  }
  function schedule(ms) {
    var at = Math.max(Date.now() + ms, retryAt);
    if (timer && due <= at) return; // a steady trickle of events must not postpone sending
    clearTimeout(timer);
    due = at;
    timer = setTimeout(function () { timer = 0; flush(); }, at - Date.now());
  }
  function forget(items, rejected) {
    items.forEach(function (e) { done[e.log_id] = 1; delete inflight[e.log_id]; });
    queue = queue.filter(function (e) { return !done[e.log_id]; });
    if (rejected) count("rejected", rejected);
    save();
  }

  // One POST /batch of the items made under the first waiting item's learner token.
  // fetch with keepalive outlives the page (sendBeacon cannot send the X-API-Key header).
  function flush() {
    if (!cfg || Date.now() < retryAt || nav.onLine === false) return;
    save();
    var batch = [], size = 0, tok;
    queue.forEach(function (e) {
      if (inflight[e.log_id] || batch.length >= 100 || (batch.length && e._t !== tok)) return;
      var item = Object.assign({}, e);
      delete item._t;
      var n = JSON.stringify(item).length;
      if (batch.length && size + n > 30000) return; // keepalive bodies share a 64 KiB budget
      tok = e._t;
      size += n;
      batch.push(e);
    });
    if (!batch.length) return;
    batch.forEach(function (e) { inflight[e.log_id] = 1; });
    var headers = { "Content-Type": "application/json", "X-API-Key": cfg.key };
    if (tok) headers["X-Learner-Token"] = tok;
    fetch(cfg.api + "/batch", {
      method: "POST",
      keepalive: true,
      credentials: "omit",
      headers: headers,
      body: JSON.stringify({ items: batch.map(function (e) { var i = Object.assign({}, e); delete i._t; return i; }) })
    }).then(function (r) {
      if (r.status == 429 || r.status >= 500) throw (+r.headers.get("Retry-After") || 0) * 1000;
      return r.json().then(null, Object).then(function (b) {
        // 200: a receipt per item; 4xx: nothing of it can ever be accepted, so it is dropped
        var bad = r.ok ? (b.receipts || []).filter(function (x) { return x.status == "rejected"; }).length : batch.length;
        forget(batch, bad);
        backoff = 0;
        if (queue.length) schedule(0);
      });
    }).then(null, function (wait) {
      batch.forEach(function (e) { delete inflight[e.log_id]; });
      backoff = Math.min(backoff ? backoff * 2 : 1000, 60000);
      retryAt = Date.now() + (wait > 0 ? wait : backoff * (0.5 + Math.random() / 2));
      schedule(0);
    });
  }

  // Page views, and how long each was visible.
  function held() {
    if (pending) emit("pageview", pending); // with a position, or without when none came in time
    pending = null;
  }
  function report() {
    held();
    if (!view) return;
    if (view.since) view.ms += Date.now() - view.since;
    view.since = d.hidden ? 0 : Date.now();
    if (view.ms != view.sent) {
      view.sent = view.ms;
      emit("visit_duration", { pageview_log_id: view.id, path: view.path, duration_s: view.ms / 1000, at: now() });
    }
  }
  function pageview(referrer) {
    if (off()) return;
    report();
    var fv, t = +get("fv"), n = Date.now();
    if (ls) {
      fv = !(t > n);
      set("fv", n + cfg.days * 864e5);
    }
    var p = (lastPath = path());
    var e = {
      log_id: id(), source: "browser", path: p, visited_at: now(), page_title: title(),
      referrer: referrer.slice(0, 2048), screen: screen.width + "x" + screen.height,
      language: nav.language, first_visit: fv
    };
    view = { id: e.log_id, path: p, ms: 0, since: d.hidden ? 0 : n };
    if (!cfg.geo || !nav.geolocation) return emit("pageview", e);
    pending = e;
    setTimeout(held, 10000); // the consent prompt may stay open: the view is not held longer
    nav.geolocation.getCurrentPosition(function (g) {
      e.latitude = g.coords.latitude;
      e.longitude = g.coords.longitude;
      held();
    }, held, { timeout: 10000, maximumAge: 6e5 });
  }
  function moved() {
    if (path() != lastPath) pageview(location.origin + lastPath);
  }

  // Clicks: links to another host, and files to download; links added later too.
  function click(ev) {
    var t = ev.target, a = t.closest && t.closest("a[href]"), c = t.closest && t.closest("[data-footfall-complete]");
    if (c) completed(c, c.getAttribute("data-footfall-complete") != "false");
    if (!a || !/^https?:$/.test(a.protocol)) return;
    var dl = a.hasAttribute("download") || cfg.downloads.test(a.pathname);
    if (a.host == location.host && !dl) return;
    emit("exit_link", { url: a.href.slice(0, 2048), page: path(), page_title: title(), clicked_at: now(), download: dl || undefined });
    flush(); // the page may be leaving
  }

  // Video progress: one event when the playback minute changes, for a <video> (a Video.js
  // player's too) inside an element naming the tutorial; only for a learner (token).
  function tutorial(el, extra) {
    var m = el.closest("[data-footfall-tutorial]"), s = m && m.dataset;
    return s && Object.assign({
      course_id: s.footfallCourse, tutorial_id: s.footfallTutorial,
      language: s.footfallLanguage || d.documentElement.lang || nav.language, visit_id: visitId, at: now()
    }, extra);
  }
  function media(ev) {
    var v = ev.target, min = Math.floor(v.currentTime / 60);
    if (v.tagName != "VIDEO" || !token || !(v.duration > 0 && v.duration < Infinity) || v._footfallMinute === min) return;
    var e = tutorial(v, { position_s: Math.min(v.currentTime, v.duration), duration_s: v.duration });
    if (!e) return;
    v._footfallMinute = min;
    emit("tutorial_progress", e);
  }
  function completed(el, yes) {
    var e = token && tutorial(el, { completed: !!yes });
    return e && emit("tutorial_completion", e);
  }

  function init(o) {
    if (cfg) return;
    cfg = {
      key: o.key, api: String(o.api || api.base).replace(/\/$/, ""), dnt: flag(o.respectDnt), geo: flag(o.geo),
      days: +o.firstVisitDays || 180, wait: o.flushMs != null ? +o.flushMs : 1000, max: +o.maxQueue || 500,
      downloads: o.downloads ? RegExp("\\.(" + o.downloads.replace(/[\s,]+/g, "|") + ")$", "i") : DOWNLOADS
    };
    token = o.learnerToken;
    if (off()) return;
    queue = stored();
    d.addEventListener("click", click, true);
    d.addEventListener("auxclick", click, true);
    d.addEventListener("timeupdate", media, true);
    d.addEventListener("visibilitychange", function () { d.hidden ? (report(), flush()) : view && (view.since = Date.now()); });
    w.addEventListener("pagehide", function () { report(); flush(); });
    w.addEventListener("online", function () { retryAt = 0; flush(); });
    w.addEventListener("popstate", moved);
    var push = history.pushState;
    history.pushState = function () {
      var r = push.apply(this, arguments);
      moved();
      return r;
    };
    if (o.pageview !== false && o.pageview !== "false") pageview(d.referrer);
    schedule(0); // what earlier pages left in the queue
  }

  var api = w.footfall = w.footfall || {
    init: init,
    emit: emit,
    pageview: function () { pageview(location.href); },
    flush: flush,
    completed: completed,
    setLearnerToken: function (t) { token = t; },
    optOut: function () { set("optout", "1"); set("q"); queue = []; },
    optIn: function () { set("optout"); },
    stats: function () { return { queued: stored().length, dropped: +get("dropped") || 0, rejected: +get("rejected") || 0 }; }
  };
  var me = d.currentScript, s = me && me.dataset;
  if (s && s.key) api.init(Object.assign({ api: new URL("api/v1", me.src).href }, s));
})(window, document, navigator);
