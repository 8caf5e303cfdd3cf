/*! fakeboxer pixel: a LeadBoxer/Opentracker-compatible tracking script. No build step,
 * no dependencies. Served by the collector at /?dataset=ID and /pixel.js?dataset=ID.
 * Cookies on the page's own domain, in LeadBoxer's formats:
 *   _otui = <random>.<firstVisitMs>.<prevVisitMs>.<curVisitMs>.<sessions>.<events>  (2 years)
 *   _ots  = <eventsInSession>.<visitStartMs>.<prevEventMs>.<curEventMs>  (30 min, sliding)
 *   _otpe = the last page URL, URL-encoded  (30 min)
 * user id = <firstVisitMs>.<random>, session id = <visitStartMs>.<random>. Every hit carries
 * the updated `otui` and `ots`, so the collector stores exactly the ids the page computed.
 * Nothing in here may throw into the host page. See pixel/README.md. */
((w, d) => {
  'use strict';
  if (w.OTLogService && w.OTLogService._fb) return; // loaded twice: keep the first
  try {
    const TIMEOUT = 18e5; // 30 minutes of quiet end a visit
    const now = Date.now;
    const ID = /^\d{1,20}\.\d{1,20}$/;
    const OTUI = /^\d{1,20}(\.\d{1,20}){5,6}$/; // a 7th field is accepted (and dropped)
    const OTS = /^\d{1,20}(\.\d{1,20}){3}$/;
    // Names the collector reads as controls: a form field never sends them.
    const CONTROL = /^(si|datasetId|ti|(lb_)?uid|otui|sid|ots|eid|t_ms|proxy|increment|json)$/;
    const SECRET = /pass|pwd|cvc|cvv|card.?num|cc-?num/i;
    const LANDING =
      /^(email|(first|last)Name|company(Name)?|phoneNumber|lb_(id|src|eid)|utm_\w+|([gdy]|tt|tw|fb)clid|msclkid|[gw]braid)$/;
    const loc = w.location;
    const images = []; // keeps pending pixel images alive
    const SCREEN = { sw: w.screen.width, sh: w.screen.height };
    let mem = []; // [otui, ots] as last saved: the state when cookies cannot be written
    let queue = null; // hits waiting for the server's answer on an email landing
    let domain; // cookie domain: '' host-only, or null when cookies do not work

    const safe = (f) =>
      function () {
        try {
          return f.apply(this, arguments);
        } catch (e) {}
      };

    // ---------------------------------------------------------------- pure helpers
    const strip = (x) => String(x).replace(/^0+(?=\d)/, '');
    // `_otui`/`_ots` -> fields, or null. Numbers lose leading zeros as the collector's
    // int() does; the random part of `_otui` keeps them.
    const parse = (v, re, n) =>
      re.test(v)
        ? v
            .split('.')
            .slice(0, n)
            .map((x, i) => (i || n < 6 ? strip(x) : x))
        : null;
    // The `_ots` after an event at t (collector/identity.py next_ots): a new visit after
    // more than `timeout` of quiet; an event earlier than the last one leaves the visit be.
    const nextOts = (p, t, timeout) =>
      !p || t - p[3] > timeout
        ? [1, t, t, t]
        : t >= +p[3]
          ? [+p[0] + 1, p[1], p[3], t]
          : [+p[0] + 1, p[1], p[2], p[3]];
    // One event at t -> [otui, ots]. A missing user starts as `<random>.t.t.t.0.0`; a new
    // visit moves curVisit to prevVisit and counts a session.
    const advance = (u, s, t, timeout, random) => {
      if (!u) s = null; // a new user starts a new visit
      u = u ? u.slice() : [random, t, t, t, 0, 0];
      const n = nextOts(s, t, timeout);
      if (!s || n[1] != s[1]) u = [u[0], u[1], u[3], t, +u[4] + 1, u[5]];
      u[5] = +u[5] + 1;
      return [u.map(String), n.map(String)];
    };
    // The user state for an id `<first>.<random>` (lb_uid, or the id the server answered),
    // keeping the visit fields and counters of u; else `<random>.<first>.t.t.0.0`.
    const force = (id, u, t) => {
      const p = id.split('.');
      return [p[1], strip(p[0])].concat(u ? u.slice(2) : [t, t, 0, 0].map(String));
    };
    const uid = (u) => (u ? u[1] + '.' + u[0] : '');
    const sid = (s, u) => (s && u ? s[1] + '.' + u[0] : '');

    // ---------------------------------------------------------------- cookies
    const readCookie = (name) => {
      const m = d.cookie.match('(?:^|;) *' + name + '=([^;]*)');
      return m && m[1];
    };
    const writeCookie = (name, value, age, dom = domain) => {
      d.cookie = `${name}=${value}; Max-Age=${age}; Path=/${dom ? '; Domain=' + dom : ''}; SameSite=Lax${
        loc.protocol == 'https:' ? '; Secure' : ''
      }`;
    };
    // The widest domain the browser lets the page use (example.com for www.example.com),
    // '' (host-only) for IP addresses and single-label hosts, null when cookies fail.
    const findDomain = () => {
      const h = loc.hostname;
      const p = h.split('.');
      for (let i = /^[\d.]+$|:/.test(h) || !p[1] ? p.length : p.length - 2; i <= p.length; i++) {
        const c = p.slice(i).join('.');
        writeCookie('_otdt', 1, 9, c);
        if (readCookie('_otdt')) {
          writeCookie('_otdt', '', -1, c);
          return c;
        }
      }
      return null;
    };
    const load = () =>
      domain == null
        ? mem
        : [parse(readCookie('_otui'), OTUI, 6), parse(readCookie('_ots'), OTS, 4)];
    const save = (u, s) => {
      mem = [u, s];
      w._otui = u.join('.');
      if (domain != null) {
        writeCookie('_otui', u.join('.'), 63072000);
        if (s) writeCookie('_ots', s.join('.'), 1800);
      }
    };

    // ---------------------------------------------------------------- sending
    const encode = (v) => {
      v = String(v);
      try {
        return encodeURIComponent(v);
      } catch (e) {
        return encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd')); // lone surrogates
      }
    };
    const body = (p) =>
      Object.keys(p)
        .filter((k) => p[k] != null)
        .map((k) => {
          let v = encode(p[k]);
          if (v.length > 4096) v = encode(String(p[k]).slice(0, 1365)); // collector limit 4 KB
          return encode(k) + '=' + v;
        })
        .join('&');
    // how: 0 image GET, 1 survives unload (fetch keepalive), 2 fetch reading the JSON answer.
    // (fetch keepalive rather than sendBeacon: same text/plain body, but it can drop the
    // Referer, which the collector would otherwise store as the event's referrer.)
    const send = (p, how, done) => {
      const b = body(p);
      if ((how || b.length > 7000) && w.fetch) {
        w.fetch(BASE, {
          method: 'POST',
          body: b, // a string: text/plain, form-encoded, as sendBeacon would send it
          keepalive: how < 2 && b.length < 6e4,
          credentials: how > 1 && !p.otui ? 'omit' : 'include',
          mode: 'cors',
          referrerPolicy: 'no-referrer'
        })
          .then((r) => how > 1 && r.json())
          .then(done, () => done && done());
        return;
      }
      if (how < 2) {
        const img = new Image();
        images.push(img);
        img.onload = img.onerror = () => images.splice(images.indexOf(img), 1);
        img.referrerPolicy = 'no-referrer';
        img.src = BASE + '?' + b;
      }
      if (done) done();
    };

    // Called from an unload or submit handler, or in a hidden page: an image may be lost.
    const unloading = () =>
      d.visibilityState == 'hidden' ||
      /^(pagehide|beforeunload|unload|submit)$/.test((w.event || 0).type);

    const copy = (m) => Object.assign({}, m instanceof OTMap ? m._m : typeof m == 'object' && m);

    // One hit: advance the cookies; then page data < the caller's map < the controls.
    const track = (ti, m, full, how, t, lookup) => {
      if (queue) return queue.push([ti, m, full, how, now()]);
      t = t || now();
      const st = load();
      const [u, s] = advance(st[0], st[1], t, TIMEOUT, 1e8 + Math.floor(Math.random() * 9e8));
      save(u, s);
      const p = { lc: loc.href };
      if (full) Object.assign(p, SCREEN);
      Object.assign(p, m, {
        si: DATASET,
        ti: ti == null ? '' : ti,
        t_ms: t,
        otui: u.join('.'),
        ots: s.join('.')
      });
      if (lookup) return lookup(p);
      send(p, how || +unloading());
    };

    // ---------------------------------------------------------------- public API
    function OTMap() {
      this._m = Object.create(null);
    }
    OTMap.prototype = {
      put(k, v) {
        this._m[k] = v;
      },
      get(k) {
        return this._m[k];
      },
      remove(k) {
        delete this._m[k];
      },
      clear() {
        this._m = Object.create(null);
      }
    };

    let me = d.currentScript;
    for (const el of d.scripts) if (!me && /[?&](dataset|account|site)=/.test(el.src)) me = el;
    const src = new URL(me ? me.src : '/', loc.href);
    const opt = src.searchParams;
    const BASE = src.origin + '/';
    const DATASET = opt.get('dataset') || opt.get('account') || opt.get('site') || '';
    const landing = new URLSearchParams(loc.search);
    const map = new OTMap();

    domain = safe(findDomain)(); // document.cookie throws in sandboxed frames: memory only
    let fresh = !load()[0]; // a browser this dataset has not seen
    let forced = landing.get('lb_uid');
    forced = ID.test(forced) && force(forced, 0, now());
    if (forced && uid(forced) != uid(load()[0])) {
      save(forced, null); // lb_uid forces the user id; a new visit starts
      if (domain != null) writeCookie('_ots', '', -1);
      fresh = false;
    }

    const previous = domain != null && readCookie('_otpe');
    Object.assign(map._m, { lc: loc.href, ti: d.title, ref: d.referrer || null }, SCREEN);
    if (previous) map.put('otpe', safe(decodeURIComponent)(previous));
    landing.forEach((v, k) => LANDING.test(k) && map.put(k, v));
    if (domain != null) writeCookie('_otpe', encode(loc.href), 1800);

    const ot_uid = () => uid(load()[0] || mem[0]);

    // The page view (what ot_onload must trigger). An `email` in the landing URL is asked
    // for a JSON answer: a new browser is sent without `otui`, so the collector looks the
    // email up (SPEC 3.1), and the user id it stored is adopted into `_otui`.
    const logState = () => {
      const m = copy(map);
      if (!m.email || !w.fetch || queue) return track(m.ti, m, 1);
      track(m.ti, m, 1, 2, 0, (p) => {
        const release = safe((r) => {
          clearTimeout(timer);
          if (r && ID.test(r.userId) && r.userId != ot_uid()) {
            const st = load();
            save(force(r.userId, st[0], now()), st[1]);
          }
          const waiting = queue || [];
          queue = null;
          for (const args of waiting) track(...args);
        });
        const timer = setTimeout(release, 5000);
        if (fresh) delete p.otui;
        p.json = 'true';
        queue = [];
        fresh = false;
        send(p, 2, release);
      });
    };

    w.OTLogService = {
      _fb: 1,
      // sendEvent(title), (title, map), (title, map, false: no screen data), (map)
      sendEvent: safe((a, m, full) => {
        if (a && typeof a == 'object') track(copy(a).ti, copy(a), 1);
        else track(a, copy(m), full !== false);
      }),
      _test: { parse, nextOts, advance, force, uid, sid, OTUI, OTS, ID }
    };
    w.OTMap = OTMap;
    w._otmap = w.ot_map = map;
    w.ot_log_state = safe(logState);
    w.ot_uid = safe(ot_uid);
    w.ot_sid = safe(() => {
      const st = load();
      return sid(st[1] || mem[1], st[0] || mem[0]);
    });
    if (load()[0]) w._otui = load()[0].join('.');

    // `&form` on the script URL: a submit sends the form's named fields, never passwords.
    if (opt.has('form')) {
      d.addEventListener(
        'submit',
        safe((e) => {
          const f = e.target;
          const m = {};
          let n = 0;
          for (const el of f.elements) {
            const k = el.name;
            const t = String(el.type).toLowerCase();
            if (!k || el.disabled || CONTROL.test(k) || SECRET.test(k) || n > 149) continue;
            if (/^(password|file|submit|button|reset|image)$/.test(t)) continue;
            if (!el.checked && /^(checkbox|radio)$/.test(t)) continue;
            const v = el.selectedOptions
              ? Array.from(el.selectedOptions, (o) => o.value).join(',')
              : el.value;
            m[k] = k in m ? m[k] + ',' + v : v;
            n++;
          }
          const id = f.getAttribute('id') || f.getAttribute('name');
          if (id && !('form_id' in m)) m.form_id = id;
          track('Form submit', m, 1, 1);
        }),
        true
      );
    }

    const onload = opt.get('onload'); // Opentracker's onload=false / onload=map
    if (typeof w.ot_onload == 'function') {
      try {
        w.ot_onload();
      } catch (e) {}
    } else if (onload != 'false' && onload != 'map') {
      w.ot_log_state();
    }
  } catch (e) {}
})(window, document);
