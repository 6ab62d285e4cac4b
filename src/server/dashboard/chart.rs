//! The dashboard's charts: small inline SVG (no script), each with a `<title>` and `<desc>`
//! that say what it shows, drawn on a 360-unit box so that a phone shows them at about their
//! natural size; text runs the page's way and time runs right to left in Arabic.

use std::fmt::Write as _;

use super::esc;

/// One line of a line chart: a name, a colour, a dash pattern (so that lines differ by more
/// than colour) and one value (0–100) per label.
pub(super) struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub dash: Option<&'a str>,
    pub values: Vec<Option<f64>>,
}

const W: f64 = 360.0;

/// A line chart of `series` over `labels` on a 0–100 scale, with the threshold drawn and
/// labelled; `desc` says in words what it shows. The legend follows in HTML.
pub(super) fn lines(
    id: &str,
    title: &str,
    desc: &str,
    labels: &[String],
    series: &[Series<'_>],
    threshold: Option<(f64, &str)>,
    rtl: bool,
) -> String {
    let (ht, top, bottom, side, axis) = (200.0, 12.0, 28.0, 26.0, 32.0);
    let n = labels.len().max(2) as f64;
    // The value axis sits at the start of the line: left in English, right in Arabic.
    let x = |i: usize| {
        let t = axis + (W - axis - side) * i as f64 / (n - 1.0);
        if rtl {
            W - t
        } else {
            t
        }
    };
    let y = |v: f64| ht - bottom - (ht - top - bottom) * v.clamp(0.0, 100.0) / 100.0;
    let (axis_x, anchor) = if rtl {
        (W - 4.0, "end")
    } else {
        (4.0, "start")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"chart\" viewBox=\"0 0 {W} {ht}\" \
         role=\"img\" aria-labelledby=\"{id}-t {id}-d\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>\
         <rect width=\"{W}\" height=\"{ht}\" fill=\"#fff\"/>",
        esc(title),
        esc(desc)
    );
    for v in [0.0, 50.0, 100.0] {
        let _ = write!(
            svg,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/>\
             <text x=\"{axis_x}\" y=\"{:.1}\" font-size=\"11\" fill=\"#444\" text-anchor=\"{anchor}\" direction=\"ltr\">{v}</text>",
            x(0).min(x(labels.len().saturating_sub(1))),
            x(0).max(x(labels.len().saturating_sub(1))),
            y(v) + 4.0,
            y = y(v),
        );
    }
    if let Some((t, label)) = threshold {
        let (x0, x1) = (x(0), x(labels.len().saturating_sub(1)));
        let _ = write!(
            svg,
            "<line x1=\"{x0:.1}\" x2=\"{x1:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#b3261e\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#b3261e\" text-anchor=\"end\" direction=\"{}\">{}</text>",
            x1,
            y(t) - 4.0,
            if rtl { "rtl" } else { "ltr" },
            esc(label),
            y = y(t),
        );
    }
    for s in series {
        let pts: Vec<(f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (x(i), y(v))))
            .collect();
        if pts.len() > 1 {
            let path: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"{} points=\"{}\"/>",
                s.colour,
                s.dash
                    .map_or(String::new(), |d| format!(" stroke-dasharray=\"{d}\"")),
                path.join(" ")
            );
        }
        for (a, b) in pts {
            let _ = write!(
                svg,
                "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"3.5\" fill=\"{}\"/>",
                s.colour
            );
        }
    }
    for (i, l) in labels.iter().enumerate() {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#333\" text-anchor=\"middle\">{}</text>",
            x(i),
            ht - 8.0,
            esc(l)
        );
    }
    svg + "</svg>"
}

/// The legend of a line chart: each line's own stroke beside its name.
pub(super) fn legend(series: &[Series<'_>], threshold: Option<&str>) -> String {
    let mut h = String::from("<ul class=\"legend\">");
    let mut item = |colour: &str, dash: Option<&str>, name: &str| {
        let _ = write!(
            h,
            "<li><svg width=\"28\" height=\"10\" aria-hidden=\"true\"><line x1=\"2\" x2=\"26\" y1=\"5\" y2=\"5\" \
             stroke=\"{colour}\" stroke-width=\"2.5\"{}/></svg> {}</li>",
            dash.map_or(String::new(), |d| format!(" stroke-dasharray=\"{d}\"")),
            esc(name)
        );
    };
    for s in series {
        item(s.colour, s.dash, s.name);
    }
    if let Some(t) = threshold {
        item("#b3261e", Some("2 3"), t);
    }
    h + "</ul>"
}

/// Horizontal bars of `(label, count, colour)`: the label and the count are written beside
/// each bar, so the colour is never the only key.
pub(super) fn bars(
    id: &str,
    title: &str,
    desc: &str,
    items: &[(String, usize, &str)],
    rtl: bool,
) -> String {
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let (row, label_w, bar_w) = (30.0, 110.0, 200.0);
    let ht = row * items.len() as f64 + 6.0;
    let dir = if rtl { "rtl" } else { "ltr" };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"chart\" viewBox=\"0 0 {W} {ht}\" \
         role=\"img\" aria-labelledby=\"{id}-t {id}-d\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(title),
        esc(desc)
    );
    for (i, (label, v, colour)) in items.iter().enumerate() {
        let top = i as f64 * row + 4.0;
        let len = (bar_w * *v as f64 / max as f64).max(if *v > 0 { 2.0 } else { 0.0 });
        // With direction="rtl", text-anchor "start" is the right edge of the text.
        let (label_x, bar_x, count_x) = if rtl {
            (W - 4.0, W - label_w - len, W - label_w - len - 6.0)
        } else {
            (4.0, label_w, label_w + len + 6.0)
        };
        let _ = write!(
            svg,
            "<text x=\"{label_x}\" y=\"{:.1}\" font-size=\"13\" fill=\"#222\" direction=\"{dir}\" text-anchor=\"start\">{}</text>\
             <rect x=\"{bar_x:.1}\" y=\"{top:.1}\" width=\"{len:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>\
             <text x=\"{count_x:.1}\" y=\"{:.1}\" font-size=\"13\" fill=\"#222\" direction=\"{dir}\" text-anchor=\"start\">{v}</text>",
            top + 16.0,
            esc(label),
            row - 10.0,
            top + 16.0,
        );
    }
    svg + "</svg>"
}
