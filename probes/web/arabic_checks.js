// Arabic service checks that axe-core does not make (ESCWA's minimum criteria for Arab
// government sites): the page's language and direction, a language switch, an accessibility
// statement, the phone numbers and the opening hours it publishes. raqib matches the phone
// numbers against the registry itself. And whether the text reads at all: UTF-8 Arabic
// decoded as a single-byte charset ("Ø§Ù„…") fails `charset_ok`, and then no check that
// reads the page's words can pass, since a citizen meets none of them.
(() => {
  const html = document.documentElement;
  const body = document.body || html;
  const text = (body.innerText || '').slice(0, 200000);
  // The page's main script: that of its main content, else of its body. Arab government
  // pages mix in English names and codes, so Arabic is the main script from 30 % of letters.
  const mainText = ((document.querySelector('main') || body).innerText || '').slice(0, 200000);
  const arabic = (mainText.match(/[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/g) || []).length;
  const latin = (mainText.match(/[A-Za-z]/g) || []).length;
  const charset = document.characterSet || '';
  const mojibake = garbled(text + ' ' + (document.title || ''), charset);
  const shown = arabic + mojibake.arabic;
  const script = shown === 0 && latin === 0 ? 'none' : shown >= 0.3 * (shown + latin) ? 'arabic' : 'latin';
  const charsetOk = !mojibake.found;
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
  // Phone numbers are ASCII digits, which every charset keeps: they still count.
  return JSON.stringify({
    script,
    lang,
    lang_ok: charsetOk && langOk,
    rtl_ok: charsetOk && rtlOk,
    language_switch: charsetOk && languageSwitch,
    accessibility_statement: charsetOk && accessibilityStatement,
    phones: Array.from(phones).slice(0, 200),
    hours_published: charsetOk && (hoursWords.test(plain) || timeRange.test(plain)),
    charset_ok: charsetOk,
    charset,
    charset_declared: !!document.querySelector('meta[charset], meta[http-equiv="content-type" i][content*="charset" i]'),
    mojibake_sample: mojibake.sample,
  });

  // Text decoded with the wrong charset: UTF-8 Arabic read byte by byte as a single-byte
  // charset (each character mapped back to its byte, the bytes then read as UTF-8, give
  // Arabic letters), or the U+FFFD marks a decoder leaves for bytes it could not read.
  function garbled(all, charset) {
    let toByte = null;
    if (!/^utf-/i.test(charset)) {
      try {
        const chars = Array.from(new TextDecoder(charset).decode(Uint8Array.from({ length: 256 }, (_, i) => i)));
        if (chars.length === 256) {
          toByte = new Map();
          chars.forEach((c, i) => toByte.has(c) || toByte.set(c, i));
        }
      } catch (e) {
        toByte = null;
      }
    }
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const arabicLetter = /[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/g;
    let recovered = 0;
    let sample = null;
    if (toByte) {
      for (const word of all.match(/\S*[^\x00-\x7F]\S*/g) || []) {
        const bytes = [];
        for (const c of word) {
          const b = toByte.get(c);
          if (b === undefined) {
            bytes.length = 0;
            break;
          }
          bytes.push(b);
        }
        if (!bytes.length) continue;
        let read;
        try {
          read = utf8.decode(Uint8Array.from(bytes));
        } catch (e) {
          continue;
        }
        const n = (read.match(arabicLetter) || []).length;
        if (n > 0 && sample === null) sample = word.slice(0, 40);
        recovered += n;
      }
    }
    // The same pattern by its look, for a charset raqib could not map back: the lead bytes
    // of Arabic in UTF-8 (D8–DB, DD) as windows-1252 shows them, then a continuation byte.
    const look = all.match(/[\u00D8-\u00DB\u00DD][\u0080-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u0192\u02C6\u02DC\u2013\u2014\u2018-\u201E\u2020-\u2022\u2026\u2030\u2039\u203A\u20AC\u2122]/g) || [];
    const nonAscii = (all.match(/[^\x00-\x7F]/g) || []).length;
    const replaced = (all.match(/\uFFFD/g) || []).length;
    const found = recovered >= 3 || look.length >= 3 || (replaced >= 5 && replaced >= 0.05 * nonAscii);
    if (sample === null && look.length) sample = look.slice(0, 5).join(' ');
    if (sample === null && replaced) sample = '\uFFFD';
    return { found, arabic: Math.max(recovered, look.length), sample: found ? sample : null };
  }
})
