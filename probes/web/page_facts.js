// What raqib reads from a page after it loaded: Navigation Timing, Largest Contentful Paint,
// and the page's links (for the crawl). A function expression: raqib calls it and awaits it.
(async () => {
  const nav = performance.getEntriesByType('navigation')[0] || null;
  // A fast page paints after its load event, and the browser reports the paint later
  // still: wait up to a second for the first Largest Contentful Paint entry.
  const lcp = await new Promise((resolve) => {
    let last = null;
    try {
      const po = new PerformanceObserver((list) => {
        const e = list.getEntries();
        if (e.length) last = e[e.length - 1];
      });
      po.observe({ type: 'largest-contentful-paint', buffered: true });
      const started = performance.now();
      const poll = () => {
        for (const e of po.takeRecords()) last = e;
        if (last || performance.now() - started > 1000) {
          po.disconnect();
          resolve(last ? last.startTime : null);
        } else {
          setTimeout(poll, 25);
        }
      };
      setTimeout(poll, 25);
    } catch (e) {
      resolve(null);
    }
  });
  const t = (v) => (nav && v > 0 ? v : null);
  return JSON.stringify({
    ttfb: t(nav && nav.responseStart),
    dom_content_loaded: t(nav && nav.domContentLoadedEventEnd),
    load: t(nav && nav.loadEventEnd),
    lcp,
    links: Array.from(document.querySelectorAll('a[href]'), (a) => a.href).slice(0, 2000),
  });
})
