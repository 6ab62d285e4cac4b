// Runs the axe-core that raqib injected, on the given tags, and returns what raqib keeps:
// violations (rule, impact, WCAG tags, node count, a sample selector and its HTML), the rules that
// passed with their impact (for the weighted score), and "incomplete" apart as needs-review.
(async (tags) => {
  const r = await axe.run(document, {
    runOnly: { type: 'tag', values: tags },
    resultTypes: ['violations', 'incomplete'],
    // raqib injects axe into the top document only: without this axe would wait up to a
    // minute for frames that have no axe to answer.
    iframes: false,
    // Stylesheets fetched for the CSSOM rules: a slow one must not hold the audit.
    preload: { assets: ['cssom'], timeout: 3000 },
    elementRef: true,
  });
  // The elements axe's contrast rule judged undecided or failing, for raqib's Arabic contrast
  // rule (`arabic_contrast.js`) not to report them a second time.
  window.__raqibAxeContrast = new Set(
    r.violations
      .concat(r.incomplete)
      .filter((v) => v.id === 'color-contrast')
      .flatMap((v) => v.nodes.map((n) => n.element).filter(Boolean)),
  );
  // A passed rule carries no impact in the result; its declared impact is the rule's own.
  const declared = {};
  for (const rule of (axe._audit && axe._audit.rules) || []) declared[rule.id] = rule.impact || null;
  const sample = (n) => (n && n.target ? n.target.map(String).join(' ') : null);
  // The element as written, cut short here too so a huge node never crosses the pipe whole.
  const snippet = (n) => (n && typeof n.html === 'string' ? n.html.slice(0, 400) : null);
  return JSON.stringify({
    version: axe.version,
    violations: r.violations.map((v) => ({
      id: v.id,
      impact: v.impact || declared[v.id] || 'moderate',
      tags: v.tags,
      nodes: v.nodes.length,
      selector: sample(v.nodes[0]),
      html: snippet(v.nodes[0]),
      help: v.help,
    })),
    passes: r.passes.map((p) => ({ id: p.id, impact: declared[p.id] || 'moderate' })),
    incomplete: r.incomplete.map((v) => ({ id: v.id, nodes: v.nodes.length })),
  });
})
