//! Tables for people: probe results, centres, sweeps and stored results.

use std::io::IsTerminal;

use anyhow::Result;

use raqib::probe::call::CallResult;
use raqib::probe::web::WebResult;
use raqib::registry::Centre;
use raqib::schedule::sweep::SweepSummary;

pub fn print_call_result(id: i64, r: &CallResult) {
    println!("{}  (result {id})", r.target);
    println!(
        "  outcome    {}{}",
        r.outcome.as_str(),
        r.sip_status
            .map(|s| format!(" ({s} {})", r.sip_reason.as_deref().unwrap_or("")))
            .unwrap_or_default()
    );
    if let Some(d) = &r.detail {
        println!("  detail     {d}");
    }
    let t = &r.timings_ms;
    println!(
        "  timeline   first response {} · ringing {} · answer {} · first audio {} after answer · total {:.1} ms",
        fmt_ms(t.first_response),
        fmt_ms(t.ringing),
        fmt_ms(t.answer),
        fmt_ms(t.first_audio),
        t.total
    );
    if let Some(a) = &r.answer_type {
        let sure = r
            .answer_type_confidence
            .map(|c| format!(", confidence {c:.2}"))
            .unwrap_or_default();
        let guess = r
            .answer_type_guess
            .map(|g| format!("; guess {} — an auditor decides", g.code()))
            .unwrap_or_default();
        let person = r
            .timings_ms
            .person
            .map(|ms| format!("; a person spoke {:.1} s after answer", ms / 1000.0))
            .unwrap_or_default();
        println!(
            "  heard      {} ({}{sure}{guess}{person})",
            a.code(),
            r.answer_type_source.as_deref().unwrap_or("heuristic")
        );
    }
    if let Some(q) = &r.rtp {
        println!(
            "  rtp        {} packets, {} lost ({:.2} %), jitter {:.2} ms, MOS {:.2}",
            q.packets, q.lost, q.loss_pct, q.jitter_ms, q.mos
        );
    }
    if let Some(p) = &r.recording {
        println!("  recording  {p}");
    }
    if let Some(p) = &r.sip_trace {
        println!("  sip trace  {p}");
    }
}

pub fn fmt_ms(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1} ms"))
        .unwrap_or_else(|| "-".into())
}

pub fn print_web_result(id: i64, r: &WebResult) {
    println!("{}  (result {id})", r.target);
    println!(
        "  outcome    {}{}",
        r.outcome.as_str(),
        r.reason
            .as_ref()
            .map(|x| format!(" ({})", raqib::probe::code_of(x)))
            .unwrap_or_default()
    );
    if let Some(d) = &r.detail {
        println!("  detail     {d}");
    }
    if let Some(s) = r.http_status {
        println!("  status     {s}");
    }
    let t = &r.timings_ms;
    println!(
        "  timings    dns {} · connect {} · tls {} · ttfb {} · total {:.1} ms",
        fmt_ms(t.dns),
        fmt_ms(t.connect),
        fmt_ms(t.tls),
        fmt_ms(t.ttfb),
        t.total
    );
    if let Some(days) = r.tls_days_left {
        println!("  cert       expires in {days} days");
    }
    for (i, u) in r.redirects.iter().enumerate() {
        println!("  redirect {} → {u}", i + 1);
    }
    if let Some(b) = r.body_bytes {
        println!("  body       {b} bytes");
    }
    print_browser_audit(r);
}

pub fn print_browser_audit(r: &WebResult) {
    let Some(b) = &r.browser else {
        return;
    };
    println!(
        "  browser    {}{}",
        raqib::probe::code_of(&b.outcome),
        b.detail
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    );
    let t = &b.timings_ms;
    println!(
        "  page       ttfb {} · DOMContentLoaded {} · load {} · LCP {} · {} console errors · {} failed requests",
        fmt_ms(t.ttfb),
        fmt_ms(t.dom_content_loaded),
        fmt_ms(t.load),
        fmt_ms(t.lcp),
        b.console_errors,
        b.failed_requests
    );
    if let Some(s) = &b.screenshot {
        println!("  screenshot {s}");
    }
    if let Some(a) = &r.a11y {
        println!(
            "  a11y       {:.1}/100 (automated, {}, {} page{}) · {} violation{} · {} to review",
            a.score,
            a.engine,
            a.pages,
            if a.pages == 1 { "" } else { "s" },
            a.violations.len(),
            if a.violations.len() == 1 { "" } else { "s" },
            a.needs_review
        );
        for v in &a.violations {
            let f = raqib::probe::web::a11y_words::finding(v, false);
            let plural = |n: u64| if n == 1 { "" } else { "s" };
            println!("    {:<8} {}", f.impact, f.description);
            let criteria = f.criteria.join("; ");
            println!(
                "             {}{criteria} · {} element{} on {} page{} · axe rule {}",
                if v.wcag.is_empty() { "" } else { "WCAG " },
                f.elements,
                plural(f.elements),
                f.pages,
                plural(f.pages),
                f.rule
            );
            if let Some(page) = &f.page {
                println!("             first on {page}");
            }
            if let Some(s) = &f.selector {
                println!("             element {s}");
            }
            if let Some(h) = &f.snippet {
                println!("             html    {}", h.replace(['\n', '\r'], " "));
            }
        }
    }
    if let Some(a) = &r.arabic {
        let mark = |ok: bool| if ok { "yes" } else { "NO" };
        println!(
            "  arabic     lang {} · rtl {} · language switch {} · accessibility statement {} · phones {} · hours {}",
            mark(a.lang_ok),
            mark(a.rtl_ok),
            mark(a.language_switch),
            mark(a.accessibility_statement),
            match a.phone_matches {
                None => "n/a".to_string(),
                Some(true) => "yes".to_string(),
                Some(false) => format!("NO (missing {})", a.phones_missing.join(", ")),
            },
            mark(a.hours_published)
        );
    }
    for p in r.pages.iter().skip(1) {
        println!(
            "  page {}  {} · a11y {}",
            p.url,
            raqib::probe::code_of(&p.outcome),
            p.a11y
                .as_ref()
                .map(|a| format!("{:.1}", a.score))
                .unwrap_or_else(|| "-".into())
        );
    }
}

pub fn print_centres(centres: &[Centre]) {
    if centres.is_empty() {
        println!("no centres yet: raqib centres import FILE.csv");
        return;
    }
    println!(
        "{:<24} {:<40} {:<18} {:>6} {:>5}  hours",
        "id", "name", "timezone", "phones", "sites"
    );
    for c in centres {
        println!(
            "{:<24} {:<40} {:<18} {:>6} {:>5}  {}",
            c.id,
            truncate(&c.name_en, 40),
            c.timezone,
            c.phones.len(),
            c.websites.len(),
            c.hours
        );
        match c.tags.is_empty() {
            true => println!("{:<24} {}", "", c.name_ar),
            false => println!("{:<24} {}  [{}]", "", c.name_ar, c.tags.join(";")),
        }
        if let Some(r) = &c.hours_ramadan {
            println!("{:<24} in Ramadan: {r}", "");
        }
    }
    println!("{} centres", centres.len());
}

pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

pub fn print_sweeps(sweeps: &[raqib::store::Sweep], json: bool) -> Result<()> {
    if json {
        for s in sweeps {
            let mut v = serde_json::to_value(s)?;
            v["status"] = s.live_status().into();
            println!("{v}");
        }
        return Ok(());
    }
    if sweeps.is_empty() {
        println!("no sweeps yet");
        return Ok(());
    }
    println!(
        "{:>5} {:<6} {:<11} {:>11} {:<24} {:<24} selection",
        "id", "chan", "status", "done/total", "started_at", "finished_at"
    );
    for s in sweeps {
        println!(
            "{:>5} {:<6} {:<11} {:>11} {:<24} {:<24} {}",
            s.id,
            s.channel,
            s.live_status(),
            format!("{}/{}", s.done, s.total),
            s.started_at,
            s.finished_at.as_deref().unwrap_or("-"),
            s.selection
        );
    }
    Ok(())
}

pub fn print_results(
    results: &[raqib::store::StoredResult],
    scoring: &[raqib::verdict::ResultScoring],
) {
    if results.is_empty() {
        println!("no results match");
        return;
    }
    println!(
        "{:>6} {:<24} {:<6} {:<22} {:<9} {:<12} {:>10} {:<14} {:<22}  target",
        "id", "started_at", "chan", "centre", "outcome", "reason", "total", "score", "heard"
    );
    for (r, s) in results.iter().zip(scoring) {
        let total = match &r.probe {
            raqib::store::Probe::Call(c) => Some(c.timings_ms.total),
            raqib::store::Probe::Web(w) => Some(w.timings_ms.total),
            raqib::store::Probe::Unreadable => None,
        };
        // A call's score, a check's availability verdict, or why it does not count.
        let score = match (&s.excluded, &s.call, &s.web) {
            (Some(why), _, _) => format!("({})", raqib::probe::code_of(why)),
            (_, Some(c), _) => format!("{:.1}", c.score),
            (_, _, Some(w)) => if w.good { "good" } else { "bad" }.to_string(),
            _ => "-".into(),
        };
        // What answered, and for an unsure call the guess an auditor is asked to check.
        let heard = match &r.probe {
            raqib::store::Probe::Call(c) => match (c.answer_type, c.answer_type_guess) {
                (Some(t), Some(g)) => format!(
                    "{} ({}? {:.2})",
                    t.code(),
                    g.code(),
                    c.answer_type_confidence.unwrap_or(0.0)
                ),
                (Some(t), None) => t.code().to_string(),
                _ => "-".into(),
            },
            _ => "-".into(),
        };
        println!(
            "{:>6} {:<24} {:<6} {:<22} {:<9} {:<12} {:>10} {:<14} {:<22}  {}",
            r.id,
            r.started_at,
            r.channel,
            truncate(r.centre_id.as_deref().unwrap_or("-"), 22),
            r.outcome,
            r.reason.as_deref().unwrap_or("-"),
            fmt_ms(total),
            score,
            heard,
            r.target
        );
    }
    println!("{} results", results.len());
}

pub fn print_summary(s: &SweepSummary, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    let color = std::io::stdout().is_terminal();
    let names = s.channel.outcomes();
    // Only the outcomes that occurred get a column, so the table stays narrow.
    let shown: Vec<&str> = names
        .iter()
        .copied()
        .filter(|o| s.outcomes.get(*o).copied().unwrap_or(0) > 0)
        .collect();
    println!(
        "\nsweep {} ({}) {}: {} checks in {:.1} s",
        s.sweep,
        s.channel,
        s.status,
        s.checks,
        s.elapsed_ms / 1000.0
    );
    let mut header = format!("{:<24} {:>6}", "centre", "checks");
    for o in &shown {
        header += &format!(" {:>w$}", o, w = o.len().max(4));
    }
    let a11y = s.centres.iter().any(|t| t.a11y.is_some());
    header += &format!(" {:>10}", "median");
    if a11y {
        header += &format!(" {:>5}", "a11y");
    }
    header += "  problem";
    println!("{header}");
    for t in &s.centres {
        let fine = t.outcomes.get(names[0]).copied().unwrap_or(0) == t.checks;
        let mark = match (color, fine) {
            (false, _) => "",
            (true, true) => "\x1b[32m",
            (true, false) => "\x1b[31m",
        };
        let end = if color { "\x1b[0m" } else { "" };
        let mut row = format!("{mark}{:<24} {:>6}", t.centre, t.checks);
        for o in &shown {
            row += &format!(
                " {:>w$}",
                t.outcomes.get(*o).copied().unwrap_or(0),
                w = o.len().max(4)
            );
        }
        row += &format!(" {:>10}", fmt_ms(t.median_ms));
        if a11y {
            row += &format!(
                " {:>5}",
                t.a11y
                    .map(|x| format!("{x:.0}"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        row += &format!("  {}{end}", t.problem.as_deref().unwrap_or(""));
        println!("{row}");
    }
    let mut total = format!("{:<24} {:>6}", "total", s.checks);
    for o in &shown {
        total += &format!(
            " {:>w$}",
            s.outcomes.get(*o).copied().unwrap_or(0),
            w = o.len().max(4)
        );
    }
    println!("{total}");
    Ok(())
}
