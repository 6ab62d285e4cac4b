// Colour contrast of Arabic text (WCAG 2.x, 1.4.3), which axe-core skips: its colour-contrast
// rule takes cursive Arabic for an icon ligature. raqib measures each element that holds
// Arabic text itself: the text colour and the background composited from the element's
// ancestors (alpha and `opacity` included) over the white canvas. Where the background is
// an image, a gradient, or something that is not an ancestor (a positioned element over or
// under the text), the element is for a person to review, never a violation. It runs after
// axe, and leaves alone the elements axe's contrast rule reported (`axe_run.js` marks them).
(() => {
  const ARABIC = /[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/;
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TITLE', 'HEAD', 'OPTION', 'TEXTAREA']);
  const KEPT = 50; // nodes kept per kind; the counts are whole
  const CHECKED = 500; // elements measured per page at most
  const root = document.body || document.documentElement;

  // Computed colours are rgb()/rgba() for sRGB; others (oklch(), color()…) go through a canvas.
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const rgba = (s) => {
    const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(s || '');
    if (m) {
      let a = m[4] === undefined ? 1 : parseFloat(m[4]);
      if (m[4] && m[4].endsWith('%')) a /= 100;
      return [+m[1], +m[2], +m[3], a];
    }
    if (!ctx || !s) return [0, 0, 0, 0];
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = s;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  const luminance = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
  // Premultiplied layers: `top` over `bottom`.
  const pre = (c) => [c[0] * c[3], c[1] * c[3], c[2] * c[3], c[3]];
  const over = (top, bottom) => top.map((v, i) => v + bottom[i] * (1 - top[3]));
  const scale = (c, k) => c.map((v) => v * k);
  const flat = (p) => [p[0], p[1], p[2]]; // over an opaque backdrop, premultiplied = straight

  const selector = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.id && document.querySelectorAll('#' + CSS.escape(e.id)).length === 1) {
        parts.unshift('#' + CSS.escape(e.id));
        break;
      }
      const tag = e.tagName.toLowerCase();
      const same = e.parentElement ? Array.from(e.parentElement.children).filter((c) => c.tagName === e.tagName) : [];
      parts.unshift(same.length > 1 ? `${tag}:nth-of-type(${same.indexOf(e) + 1})` : tag);
      if (tag === 'html') break;
    }
    return parts.join(' > ');
  };
  const snippet = (el) => {
    const h = el.outerHTML || '';
    const open = h.slice(0, h.indexOf('>') + 1);
    const text = (el.textContent || '').trim().slice(0, 80);
    return (open + text).slice(0, 400);
  };

  // Elements whose own text nodes hold Arabic.
  const elements = new Set();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (p && !SKIP.has(p.tagName) && ARABIC.test(n.nodeValue)) elements.add(p);
  }

  const textRect = (el) => {
    const range = document.createRange();
    let box = null;
    for (const n of el.childNodes) {
      if (n.nodeType !== 3 || !ARABIC.test(n.nodeValue)) continue;
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) {
        if (r.width * r.height <= 0) continue;
        if (!box) box = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
        else {
          box.left = Math.min(box.left, r.left);
          box.top = Math.min(box.top, r.top);
          box.right = Math.max(box.right, r.right);
          box.bottom = Math.max(box.bottom, r.bottom);
        }
      }
    }
    return box;
  };

  // Hidden as axe counts it: no box, invisible, fully transparent, clipped away, off-screen.
  const hidden = (el, box) => {
    if (!box) return true;
    const cs = getComputedStyle(el);
    if (cs.visibility !== 'visible') return true;
    if (rgba(cs.webkitTextFillColor || cs.color)[3] === 0) return true;
    const sx = window.scrollX;
    const sy = window.scrollY;
    if (box.right + sx <= 0 || box.bottom + sy <= 0) return true;
    if (box.left + sx >= document.documentElement.scrollWidth) return true;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (parseFloat(s.opacity) === 0) return true;
      if (/^rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)$/.test(s.clip)) return true;
      if (/inset\(50%/.test(s.clipPath)) return true;
      if (e !== el && s.overflow !== 'visible' && e !== document.documentElement && e !== document.body) {
        const r = e.getBoundingClientRect();
        const w = Math.min(r.right, box.right) - Math.max(r.left, box.left);
        const h = Math.min(r.bottom, box.bottom) - Math.max(r.top, box.top);
        if (w <= 1 || h <= 1) return true;
      }
    }
    return false;
  };

  const visibleBackground = (s) => s.backgroundImage !== 'none' || rgba(s.backgroundColor)[3] > 0;

  // Something that is not the element's ancestor painted over or right under its text.
  const foreign = (el, box) => {
    const x = (Math.max(box.left, 0) + Math.min(box.right, window.innerWidth)) / 2;
    const y = (Math.max(box.top, 0) + Math.min(box.bottom, window.innerHeight)) / 2;
    const stack = document.elementsFromPoint(x, y);
    const at = stack.indexOf(el);
    if (at < 0) return true;
    for (let i = 0; i < at; i++) {
      const e = stack[i];
      if (!el.contains(e) && visibleBackground(getComputedStyle(e))) return true;
    }
    // Below the element: a non-ancestor shows through until an ancestor paints opaquely.
    for (let i = at; i < stack.length; i++) {
      const e = stack[i];
      const s = getComputedStyle(e);
      if (e.contains(el)) {
        if (rgba(s.backgroundColor)[3] >= 1 && parseFloat(s.opacity) >= 1) return false;
        continue;
      }
      if (visibleBackground(s)) return true;
    }
    return false;
  };

  const measure = (el) => {
    const cs = getComputedStyle(el);
    const fg = rgba(cs.webkitTextFillColor || cs.color);
    // The text pixel and the background pixel, built from the element up to the root.
    let text = pre(fg);
    let back = [0, 0, 0, 0];
    let image = null;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (back[3] < 1 && s.backgroundImage !== 'none') {
        image = /gradient\(/.test(s.backgroundImage) ? 'gradient' : 'image';
      }
      const bg = pre(rgba(s.backgroundColor));
      back = over(back, bg);
      text = over(text, bg);
      const o = parseFloat(s.opacity);
      if (o < 1) {
        back = scale(back, o);
        text = scale(text, o);
      }
    }
    const white = [255, 255, 255, 1];
    const b = flat(over(back, white));
    const t = flat(over(text, white));
    const size = parseFloat(cs.fontSize) || 0;
    const weight = parseInt(cs.fontWeight, 10) || 400;
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    // selector and html are added only to the nodes kept: most measured text passes.
    return {
      ratio: Math.round(ratio(t, b) * 100) / 100,
      exact: ratio(t, b),
      expected: large ? 3 : 4.5,
      fg: hex(t),
      bg: hex(b),
      font_size: Math.round(size * 100) / 100,
      font_weight: weight,
      large,
      reason: image,
    };
  };

  const sx = window.scrollX;
  const sy = window.scrollY;
  const byAxe = window.__raqibAxeContrast instanceof Set ? window.__raqibAxeContrast : new Set();
  let axe = 0;
  const violations = [];
  const review = [];
  let checked = 0;
  let failed = 0;
  let toReview = 0;
  for (const el of elements) {
    if (checked >= CHECKED) break;
    // WCAG 1.4.3 exempts inactive controls.
    if (el.closest(':disabled, [aria-disabled="true"]')) continue;
    // Text axe's own contrast rule already judged (it does for some Arabic, e.g. with digits)
    // is axe's finding: not reported twice.
    if (byAxe.has(el)) {
      axe += 1;
      continue;
    }
    let box = textRect(el);
    if (hidden(el, box)) continue;
    // elementsFromPoint sees the viewport only: bring the text into its middle first (the
    // middle, not the top, where a sticky header would lie over it).
    if (box.top < 0 || box.bottom > window.innerHeight || box.left < 0 || box.right > window.innerWidth) {
      window.scrollTo(
        (box.left + box.right) / 2 + window.scrollX - window.innerWidth / 2,
        (box.top + box.bottom) / 2 + window.scrollY - window.innerHeight / 2,
      );
      box = textRect(el);
      if (!box) continue;
    }
    checked += 1;
    const m = measure(el);
    if (!m.reason && foreign(el, box)) m.reason = 'overlap';
    const exact = m.exact;
    delete m.exact;
    const kept = () => ({ selector: selector(el), html: snippet(el), ...m });
    if (m.reason) {
      toReview += 1;
      if (review.length < KEPT) review.push(kept());
    } else if (exact < m.expected) {
      failed += 1;
      if (violations.length < KEPT) violations.push(kept());
    }
  }
  window.scrollTo(sx, sy);
  return JSON.stringify({ checked, failed, to_review: toReview, by_axe: axe, violations, review });
})
