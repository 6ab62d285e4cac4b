// Arabic service checks that axe-core does not make (ESCWA's minimum criteria for Arab
// government sites): the page's language and direction, a language switch, an accessibility
// statement, the phone numbers and the opening hours it publishes. raqib matches the phone
// numbers against the registry itself.
(() => {
  const html = document.documentElement;
  const body = document.body || html;
  const text = (body.innerText || '').slice(0, 200000);
  // The page's main script: that of its main content, else of its body. Arab government
  // pages mix in English names and codes, so Arabic is the main script from 30 % of letters.
  const mainText = ((document.querySelector('main') || body).innerText || '').slice(0, 200000);
  const arabic = (mainText.match(/[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/g) || []).length;
  const latin = (mainText.match(/[A-Za-z]/g) || []).length;
  const script = arabic === 0 && latin === 0 ? 'none' : arabic >= 0.3 * (arabic + latin) ? 'arabic' : 'latin';
  const lang = (html.getAttribute('lang') || '').trim().toLowerCase();
  const primary = lang.split('-')[0];
  const langOk =
    script === 'arabic' ? primary === 'ar' : script === 'latin' ? primary !== '' && primary !== 'ar' : primary !== '';
  const dirAttr = (html.getAttribute('dir') || (document.body && document.body.getAttribute('dir')) || '').toLowerCase();
  const computed = getComputedStyle(document.body || html).direction;
  const rtlOk = script !== 'arabic' || (dirAttr === 'rtl' && computed === 'rtl');

  const controls = Array.from(document.querySelectorAll('a[href], button, [role="link"], [role="button"], option'));
  const label = (el) => ((el.innerText || el.textContent || '') + ' ' + (el.getAttribute('aria-label') || '') + ' ' + (el.getAttribute('title') || '')).trim();
  const otherLang = /^(english|en|eng|عربي|العربية|عربى|ar|français|francais|fr)$/i;
  const languageSwitch = controls.some((el) => {
    const hreflang = (el.getAttribute('hreflang') || '').toLowerCase();
    if (hreflang && hreflang.split('-')[0] !== primary) return true;
    const elLang = (el.getAttribute('lang') || '').toLowerCase();
    if (elLang && elLang.split('-')[0] !== primary && otherLang.test(label(el))) return true;
    return otherLang.test(label(el).replace(/\s+/g, ' '));
  });
  const statement = /accessib|إمكانية الوصول|امكانية الوصول|سهولة الوصول|إتاحة الوصول|الإتاحة الرقمية|النفاذ الرقمي/i;
  const accessibilityStatement = Array.from(document.querySelectorAll('a[href]')).some(
    (a) => statement.test(label(a)) || statement.test(a.getAttribute('href') || ''),
  );

  const digits = (s) => s.replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660)).replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06f0));
  const phones = new Set();
  for (const a of document.querySelectorAll('a[href^="tel:" i]')) {
    phones.add(digits(decodeURIComponent(a.getAttribute('href').slice(4))).replace(/[^+0-9]/g, ''));
  }
  const plain = digits(text);
  for (const m of plain.matchAll(/\+?\(?\d[\d\s().\-\u200e\u200f]{5,20}\d/g)) {
    const n = m[0].replace(/[^+0-9]/g, '');
    if (n.replace('+', '').length >= 7) phones.add(n);
  }
  const hoursWords = /ساعات العمل|أوقات العمل|اوقات العمل|أوقات الدوام|اوقات الدوام|مواعيد العمل|ساعات الدوام|opening hours|working hours|office hours|business hours|hours of operation/i;
  const timeRange = /\b\d{1,2}[:.]\d{2}\s*(?:[-–—]|to|إلى|الى|حتى)\s*\d{1,2}[:.]\d{2}\b/i;
  return JSON.stringify({
    script,
    lang,
    lang_ok: langOk,
    rtl_ok: rtlOk,
    language_switch: languageSwitch,
    accessibility_statement: accessibilityStatement,
    phones: Array.from(phones).slice(0, 200),
    hours_published: hoursWords.test(plain) || timeRange.test(plain),
  });
})
