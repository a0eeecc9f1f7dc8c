// acp-conductor trace viewer: a sequence diagram of a trace (acp/conductor/trace.hpp).
// Every string in a trace came from an agent or an editor: the page builds its DOM with
// textContent only and never evaluates data. Rows are virtual: only the visible ones exist.
(function () {
  'use strict';
  var ROW_H = 22, GUTTER = 96, MIN_LANE_W = 170, RUN_MIN = 10, OVERSCAN = 8;
  var KIND = { request: 'req', response: 'resp', notification: 'notif' };

  var $ = function (id) { return document.getElementById(id); };
  var scroller = $('scroller'), canvas = $('canvas'), lanesEl = $('lanes');
  var detailTitle = $('detail-title'), detailBody = $('detail-body');
  var fSession = $('f-session'), fMethod = $('f-method'), fComponent = $('f-component'), fText = $('f-text');

  // The model: events in arrival order plus what each needs for drawing and filtering.
  var events = [];      // parsed trace events
  var meta = [];        // {kind, method, session, pair, latency}
  var pending = new Map(); // request key (from, to, id) -> index, until its response arrives
  var lanes = [], laneIndex = new Map();
  var sessions = new Set(), methods = new Set();
  var skipped = 0, localSkipped = 0;
  var shownEvents = 0;
  var rows = [];        // what is drawn: {e: index} | {run: [indices], key} | {e: index, inRun: key}
  var openRuns = new Set();
  var selected = -1;
  var laneW = MIN_LANE_W;
  var rendered = new Map(); // row number -> element
  var dirty = false, lanesDirty = false, filtersDirty = false;

  function idKey(id) { return id === undefined ? 'undefined' : JSON.stringify(id); }
  function str(v) { return typeof v === 'string' ? v : ''; }
  function fmtNum(n) { return n.toLocaleString('en-US'); }
  function fmtMs(s) {
    var ms = s * 1000;
    if (ms >= 1000) return (ms / 1000).toFixed(ms >= 10000 ? 1 : 2) + ' s';
    return (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)) + ' ms';
  }
  function fmtTs(ts) { return typeof ts === 'number' ? ts.toFixed(3) + ' s' : ''; }

  function laneOrder(name) {
    if (name === 'Client') return [0, 0];
    var m = /^Proxy\((\d+)\)$/.exec(name);
    if (m) return [1, Number(m[1])];
    if (name === 'Agent') return [2, 0];
    return [3, 0];
  }
  function addLane(name) {
    if (laneIndex.has(name)) return;
    lanes.push(name);
    lanes.sort(function (a, b) {
      var x = laneOrder(a), y = laneOrder(b);
      return x[0] - y[0] || x[1] - y[1] || (a < b ? -1 : a > b ? 1 : 0);
    });
    laneIndex.clear();
    lanes.forEach(function (n, i) { laneIndex.set(n, i); });
    lanesDirty = true;
    addOption(fComponent, name);
  }
  function addOption(select, value) {
    var o = document.createElement('option');
    o.value = value;
    o.textContent = value;
    select.appendChild(o);
  }

  // Adds one event (an object from the trace) to the model.
  function ingest(ev) {
    if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) { localSkipped++; return; }
    var i = events.length, type = str(ev.type);
    var kind = Object.prototype.hasOwnProperty.call(KIND, type) ? KIND[type] : 'marker';
    var m = { kind: kind, method: str(ev.method), session: str(ev.session), pair: -1, latency: 0 };
    events.push(ev);
    meta.push(m);
    if (m.kind === 'marker') return;
    var from = str(ev.from), to = str(ev.to);
    addLane(from);
    addLane(to);
    if (m.kind === 'req') {
      pending.set(from + '\u0000' + to + '\u0000' + idKey(ev.id), i);
    } else if (m.kind === 'resp') {
      var key = to + '\u0000' + from + '\u0000' + idKey(ev.id);
      var j = pending.get(key);
      if (j !== undefined) {
        pending.delete(key);
        m.pair = j;
        meta[j].pair = i;
        m.method = meta[j].method;
        m.session = meta[j].session;
        if (typeof ev.ts === 'number' && typeof events[j].ts === 'number') m.latency = ev.ts - events[j].ts;
      }
      if (ev.is_error === true) m.kind = 'err';
    }
    if (m.session && !sessions.has(m.session)) { sessions.add(m.session); addOption(fSession, m.session); }
    if (m.method && !methods.has(m.method)) { methods.add(m.method); addOption(fMethod, m.method); }
  }

  // Filters, then groups runs of streamed session/update notifications of one session.
  var textCache = [];
  function matches(i) {
    var ev = events[i], m = meta[i];
    if (fSession.value && m.session !== fSession.value) return false;
    if (fMethod.value && m.method !== fMethod.value) return false;
    if (fComponent.value && ev.from !== fComponent.value && ev.to !== fComponent.value) return false;
    var q = fText.value.trim().toLowerCase();
    if (q) {
      if (textCache[i] === undefined) textCache[i] = JSON.stringify(ev).toLowerCase();
      if (textCache[i].indexOf(q) < 0) return false;
    }
    return true;
  }
  function isUpdate(i) { return meta[i].kind === 'notif' && meta[i].method === 'session/update'; }
  function buildRows() {
    rows = [];
    var run = null;
    function flush() {
      if (!run) return;
      if (run.length < RUN_MIN) {
        run.forEach(function (k) { rows.push({ e: k }); });
      } else {
        var key = 'run' + run[0];
        rows.push({ run: run, key: key });
        if (openRuns.has(key)) run.forEach(function (k) { rows.push({ e: k, inRun: key }); });
      }
      run = null;
    }
    for (var i = 0; i < events.length; i++) {
      if (!matches(i)) continue;
      if (isUpdate(i)) {
        if (run && meta[run[0]].session === meta[i].session) { run.push(i); continue; }
        flush();
        run = [i];
        continue;
      }
      flush();
      rows.push({ e: i });
    }
    flush();
    shownEvents = 0;
    rows.forEach(function (r) { if (r.e !== undefined) shownEvents++; else if (!openRuns.has(r.key)) shownEvents += r.run.length; });
  }

  function laneX(name) { return GUTTER + laneW * ((laneIndex.has(name) ? laneIndex.get(name) : 0) + 0.5); }
  function layoutLanes() {
    var avail = scroller.clientWidth - GUTTER - 20;
    laneW = Math.max(MIN_LANE_W, lanes.length ? Math.floor(avail / lanes.length) : MIN_LANE_W);
    var width = GUTTER + laneW * lanes.length + 20;
    lanesEl.style.width = canvas.style.width = width + 'px';
    lanesEl.textContent = '';
    canvas.querySelectorAll('.lifeline').forEach(function (n) { n.remove(); });
    var axis = document.createElement('span');
    axis.className = 'axis-name';
    axis.textContent = 'time';
    lanesEl.appendChild(axis);
    lanes.forEach(function (name) {
      var h = document.createElement('span');
      h.className = 'lane-name';
      h.textContent = name;
      h.style.left = laneX(name) + 'px';
      lanesEl.appendChild(h);
      var l = document.createElement('div');
      l.className = 'lifeline';
      l.style.left = laneX(name) + 'px';
      canvas.appendChild(l);
    });
  }

  function arrowLabel(i) {
    var ev = events[i], m = meta[i];
    if (m.kind === 'req') return m.method + ' #' + idKey(ev.id);
    if (m.kind === 'notif') return m.method;
    var what = m.kind === 'err' ? 'error' : 'result';
    if (m.kind === 'err' && ev.payload && typeof ev.payload === 'object' && 'code' in ev.payload) {
      what += ' ' + String(ev.payload.code);
    }
    var s = '#' + idKey(ev.id) + ' ' + (m.method ? m.method + ' ' : '') + what;
    return m.pair >= 0 ? s + ' \u00b7 ' + fmtMs(m.latency) : s + ' (no request)';
  }

  function makeRow(r, n) {
    var el = document.createElement('div');
    el.className = 'row';
    el.style.top = n * ROW_H + 'px';
    el.dataset.row = n;
    if (r.run) {
      var first = events[r.run[0]], x1 = Infinity, x2 = -Infinity;
      r.run.forEach(function (k) {
        var a = laneX(events[k].from), b = laneX(events[k].to);
        x1 = Math.min(x1, a, b);
        x2 = Math.max(x2, a, b);
      });
      var t = document.createElement('span');
      t.className = 't';
      t.textContent = fmtTs(first.ts);
      el.appendChild(t);
      var b = document.createElement('div');
      var open = openRuns.has(r.key);
      b.className = 'run' + (open ? ' open' : '');
      b.dataset.run = r.key;
      b.dataset.count = r.run.length;
      b.style.left = x1 - 10 + 'px';
      b.style.width = Math.max(120, x2 - x1 + 20) + 'px';
      b.textContent = (open ? '\u25be ' : '\u25b8 ') + '\u00d7 ' + fmtNum(r.run.length) + ' updates' +
        (meta[r.run[0]].session ? ' (' + meta[r.run[0]].session + ')' : '');
      b.title = open ? 'Collapse' : 'Expand';
      el.appendChild(b);
      return el;
    }
    var i = r.e, ev = events[i], m = meta[i];
    el.dataset.event = i;
    if (i === selected) el.classList.add('selected');
    else if (selected >= 0 && meta[selected].pair === i) el.classList.add('paired');
    var prev = n > 0 ? rows[n - 1] : null;
    var prevIdx = prev ? (prev.run ? prev.run[prev.run.length - 1] : prev.e) : -1;
    if (prevIdx >= 0 && typeof ev.ts === 'number' && ev.ts - events[prevIdx].ts > 1) el.classList.add('gap');
    var ts = document.createElement('span');
    ts.className = 't';
    ts.textContent = fmtTs(ev.ts);
    el.appendChild(ts);
    if (m.kind === 'marker') {
      var mk = document.createElement('span');
      mk.className = 'marker';
      mk.style.left = GUTTER + 'px';
      mk.textContent = ev.type === 'dropped' ? '\u26a0 ' + fmtNum(Number(ev.count) || 0) + ' events dropped by the tracer'
        : '\u26a0 event of type ' + JSON.stringify(ev.type);
      el.appendChild(mk);
      return el;
    }
    var xa = laneX(ev.from), xb = laneX(ev.to);
    var a = document.createElement('div');
    a.className = 'arrow ' + m.kind + (xa <= xb ? ' r' : ' l') + (xa === xb ? ' self' : '');
    a.dataset.event = i;
    a.dataset.kind = m.kind;
    if (m.kind === 'resp' || m.kind === 'err') {
      a.dataset.req = m.pair;
      if (m.pair >= 0) a.dataset.latencyMs = (m.latency * 1000).toFixed(3);
    } else if (m.kind === 'req') {
      a.dataset.resp = m.pair;
    }
    a.style.left = Math.min(xa, xb) + 'px';
    a.style.width = Math.max(24, Math.abs(xb - xa)) + 'px';
    var hit = document.createElement('span');
    hit.className = 'hit';
    a.appendChild(hit);
    var lb = document.createElement('span');
    lb.className = 'label';
    lb.textContent = arrowLabel(i);
    a.appendChild(lb);
    a.title = ev.from + ' \u2192 ' + ev.to;
    el.appendChild(a);
    return el;
  }

  var joinEl = null;
  function renderJoin() {
    if (joinEl) { joinEl.remove(); joinEl = null; }
    if (selected < 0 || meta[selected].pair < 0) return;
    var a = rowOf(selected), b = rowOf(meta[selected].pair);
    if (a < 0 || b < 0) return;
    joinEl = document.createElement('div');
    var resp = meta[selected].kind === 'req' ? meta[selected].pair : selected;
    joinEl.className = 'join' + (meta[resp].kind === 'err' ? ' err' : '');
    joinEl.style.left = GUTTER - 10 + 'px';
    joinEl.style.top = Math.min(a, b) * ROW_H + 11 + 'px';
    joinEl.style.height = Math.abs(b - a) * ROW_H + 'px';
    canvas.appendChild(joinEl);
  }
  function rowOf(i) {
    for (var n = 0; n < rows.length; n++) if (rows[n].e === i) return n;
    return -1;
  }

  function render(force) {
    canvas.style.height = Math.max(rows.length * ROW_H, 40) + 'px';
    var top = Math.max(0, scroller.scrollTop - 30);
    var first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    var last = Math.min(rows.length - 1, Math.ceil((top + scroller.clientHeight) / ROW_H) + OVERSCAN);
    if (force) { rendered.forEach(function (el) { el.remove(); }); rendered.clear(); }
    rendered.forEach(function (el, n) {
      if (n < first || n > last) { el.remove(); rendered.delete(n); }
    });
    for (var n = first; n <= last; n++) {
      if (rendered.has(n)) continue;
      var el = makeRow(rows[n], n);
      rendered.set(n, el);
      canvas.appendChild(el);
    }
    var empty = canvas.querySelector('.empty');
    if (!rows.length && !empty) {
      empty = document.createElement('div');
      empty.className = 'empty';
      empty.textContent = events.length ? 'No message matches the filters.' : 'No events yet.';
      canvas.appendChild(empty);
    } else if (rows.length && empty) {
      empty.remove();
    }
    $('status').textContent = 'showing ' + fmtNum(shownEvents) + ' of ' + fmtNum(events.length) + ' events';
    // Embedded: lines of the file that were not events. Live: the server's count of the oldest
    // events it no longer holds, plus messages that were not JSON.
    var parts = [];
    var lines = live ? localSkipped : skipped + localSkipped;
    if (live && skipped) parts.push('skipped ' + fmtNum(skipped) + (skipped === 1 ? ' earlier event' : ' earlier events'));
    if (lines) parts.push('skipped ' + fmtNum(lines) + (lines === 1 ? ' line that is' : ' lines that are') + ' not trace events');
    $('skipped').hidden = parts.length === 0;
    $('skipped').textContent = parts.join('; ');
  }

  // Rebuilds what changed, at most once a frame. Follows the tail unless the user scrolled up.
  var scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(function () {
      scheduled = false;
      var atBottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 2 * ROW_H;
      var follow = live && atBottom && !userScrolledUp;
      if (lanesDirty) { layoutLanes(); lanesDirty = false; dirty = true; }
      if (filtersDirty || dirty) { buildRows(); filtersDirty = false; }
      render(dirty);
      dirty = false;
      renderJoin();
      if (follow) scroller.scrollTop = scroller.scrollHeight;
    });
  }

  function show(i) {
    selected = i;
    var ev = events[i], m = meta[i];
    detailTitle.textContent = (ev.type || 'event') + (m.method ? ' ' + m.method : '') +
      (ev.from ? '  ' + ev.from + ' \u2192 ' + ev.to : '') + (typeof ev.ts === 'number' ? '  at ' + fmtTs(ev.ts) : '');
    detailBody.textContent = '';
    function section(title, value) {
      var h = document.createElement('h3');
      h.textContent = title;
      var pre = document.createElement('pre');
      pre.textContent = JSON.stringify(value, null, 2);
      detailBody.appendChild(h);
      detailBody.appendChild(pre);
      return pre;
    }
    section('Message', ev).id = 'detail-json';
    if (m.pair >= 0) {
      var other = events[m.pair];
      var lat = document.createElement('h3');
      lat.id = 'detail-latency';
      lat.textContent = 'Latency: ' + fmtMs(Math.abs(m.latency || meta[m.pair].latency));
      detailBody.appendChild(lat);
      section(m.kind === 'req' ? 'Its response' : 'Its request', other);
    }
    dirty = true;
    schedule();
  }

  canvas.addEventListener('click', function (e) {
    var run = e.target.closest('.run');
    if (run) {
      var key = run.dataset.run;
      if (openRuns.has(key)) openRuns.delete(key); else openRuns.add(key);
      dirty = true;
      schedule();
      return;
    }
    var a = e.target.closest('.arrow');
    if (a) show(Number(a.dataset.event));
  });
  var userScrolledUp = false, lastTop = 0;
  scroller.addEventListener('scroll', function () {
    var atBottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 2 * ROW_H;
    if (scroller.scrollTop < lastTop && !atBottom) userScrolledUp = true;
    if (atBottom) userScrolledUp = false;
    lastTop = scroller.scrollTop;
    if (!scheduled) requestAnimationFrame(function () { render(false); renderJoin(); });
  });
  window.addEventListener('resize', function () { lanesDirty = true; schedule(); });
  [fSession, fMethod, fComponent].forEach(function (s) {
    s.addEventListener('change', function () { filtersDirty = true; dirty = true; schedule(); });
  });
  var textTimer = 0;
  fText.addEventListener('input', function () {
    clearTimeout(textTimer);
    textTimer = setTimeout(function () { filtersDirty = true; dirty = true; schedule(); }, 120);
  });

  // Input: events embedded by `trace view`, or live over server-sent events.
  var live = false;
  var data = null;
  try {
    data = JSON.parse($('acp-trace').textContent);
  } catch (err) {
    data = { events: [], skipped: 0, error: String(err) };
  }
  if (data && Array.isArray(data.events)) {
    $('file').textContent = str(data.file);
    if (data.file) document.title = data.file + ' \u2014 ACP trace';
    skipped = Number(data.skipped) || 0;
    data.events.forEach(ingest);
    data = null;
  } else {
    live = true;
    var liveEl = $('live');
    liveEl.hidden = false;
    liveEl.textContent = 'live: connecting';
    var es = new EventSource('events' + location.search);
    es.onopen = function () { liveEl.textContent = 'live'; };
    // A reconnection would replay the server's history: duplicates. The chain's end closes the
    // stream; the page then keeps what it has.
    es.onerror = function () {
      es.close();
      liveEl.textContent = 'live: disconnected (the chain ended or the connection failed)';
    };
    es.onmessage = function (e) {
      var ev;
      try { ev = JSON.parse(e.data); } catch (err) { localSkipped++; schedule(); return; }
      ingest(ev);
      dirty = true;
      schedule();
    };
    es.addEventListener('skipped', function (e) { skipped = Number(e.data) || 0; schedule(); });
  }
  lanesDirty = true;
  dirty = true;
  schedule();
  requestAnimationFrame(function () { requestAnimationFrame(function () { document.body.dataset.ready = '1'; }); });
})();
