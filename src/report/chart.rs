//! The report's charts as small inline SVG: phone bands as bars, six months as lines. Each
//! has a `<title>` and `<desc>` and a data table beside it on the page; colour always comes with
//! a word or a dash pattern. In Arabic the chart is mirrored: bars grow and time runs from the
//! right.

use super::html::esc;
use super::Lang;

fn open(id: &str, w: f64, h: f64, title: &str, desc: &str) -> String {
    // Explicit ltr: x positions below are computed for each language, not left to the page.
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" viewBox=\"0 0 {w} {h}\" \
         width=\"100%\" style=\"max-width:{w}px\" role=\"img\" direction=\"ltr\" \
         aria-labelledby=\"{id}-t {id}-d\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(title),
        esc(desc)
    )
}

/// Horizontal bars of `(label, count, colour)`, each labelled with its word and count.
pub fn bars(id: &str, items: &[(&str, usize, &str)], lang: Lang, title: &str) -> String {
    let rtl = lang == Lang::Ar;
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let (w, row, label_w) = (520.0, 34.0, 150.0);
    let desc = items
        .iter()
        .map(|(l, v, _)| format!("{l}: {v}"))
        .collect::<Vec<_>>()
        .join(if rtl { "، " } else { ", " });
    let mut svg = open(id, w, row * items.len() as f64 + 6.0, title, &desc);
    for (i, (label, v, colour)) in items.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let len = (w - label_w - 60.0) * *v as f64 / max as f64;
        let (label_x, label_anchor, bar_x, count_x, count_anchor) = if rtl {
            (
                w - 4.0,
                "end",
                w - label_w - len,
                w - label_w - len - 6.0,
                "end",
            )
        } else {
            (4.0, "start", label_w, label_w + len + 6.0, "start")
        };
        svg += &format!(
            "<text x=\"{label_x}\" y=\"{}\" text-anchor=\"{label_anchor}\" font-size=\"15\">{}</text>\
             <rect x=\"{bar_x}\" y=\"{y}\" width=\"{len}\" height=\"{}\" fill=\"{colour}\"/>\
             <text x=\"{count_x}\" y=\"{}\" text-anchor=\"{count_anchor}\" font-size=\"15\" font-weight=\"bold\">{v}</text>",
            y + 19.0,
            esc(label),
            row - 10.0,
            y + 19.0,
        );
    }
    svg + "</svg>"
}

/// One line of the trend chart: its name, values (a gap where `None`), colour and dash.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<Option<f64>>,
    pub colour: &'a str,
    pub dash: &'a str,
}

/// Lines over 0–100 with the threshold drawn and labelled; `labels` are the x axis' words.
pub fn lines(
    id: &str,
    labels: &[String],
    series: &[Series],
    threshold: f64,
    lang: Lang,
    title: &str,
    desc: &str,
) -> String {
    let rtl = lang == Lang::Ar;
    let (w, h) = (600.0, 280.0);
    // Laid out left to right, then mirrored in Arabic: the value axis on the right, time
    // running from the right.
    let mx = |x: f64| if rtl { w - x } else { x };
    let flip = |a: &'static str| match (a, rtl) {
        ("start", true) => "end",
        ("end", true) => "start",
        (a, _) => a,
    };
    let (left, right, top, bottom) = (40.0, 12.0, 16.0, 74.0);
    // Points sit inside the plot so that the first and last month's words fit under them.
    let inset = 34.0;
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let n = labels.len().max(2);
    let x = |i: usize| mx(left + inset + (plot_w - 2.0 * inset) * i as f64 / (n - 1) as f64);
    let y = |v: f64| top + plot_h * (1.0 - v.clamp(0.0, 100.0) / 100.0);
    let mut svg = open(id, w, h, title, desc);
    for v in [0.0, 25.0, 50.0, 75.0, 100.0] {
        svg += &format!(
            "<line x1=\"{}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\" stroke=\"#d0d5dd\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"{}\" font-size=\"13\" fill=\"#475467\">{v}</text>",
            mx(left),
            mx(w - right),
            mx(left - 6.0),
            y(v) + 4.0,
            flip("end"),
            yy = y(v)
        );
    }
    let ty = y(threshold);
    let threshold_words = match lang {
        Lang::En => format!("follow-up threshold {threshold}"),
        Lang::Ar => format!("حدّ المتابعة {threshold}"),
    };
    svg += &format!(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{ty}\" y2=\"{ty}\" stroke=\"#b42318\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"{}\" font-size=\"13\" fill=\"#b42318\">{}</text>",
        mx(left),
        mx(w - right),
        mx(w - right - 4.0),
        ty - 6.0,
        flip("end"),
        esc(&threshold_words)
    );
    for (i, l) in labels.iter().enumerate() {
        svg += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#344054\">{}</text>",
            x(i),
            top + plot_h + 20.0,
            esc(l)
        );
    }
    for s in series {
        // Consecutive known points are joined; a month without data leaves a gap.
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>, svg: &mut String| {
            if run.len() > 1 {
                *svg += &format!(
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\" stroke-dasharray=\"{}\" points=\"{}\"/>",
                    s.colour,
                    s.dash,
                    run.join(" ")
                );
            }
            run.clear();
        };
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    run.push(format!("{:.1},{:.1}", x(i), y(*v)));
                    svg += &format!(
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{}\"/>",
                        x(i),
                        y(*v),
                        s.colour
                    );
                }
                None => flush(&mut run, &mut svg),
            }
        }
        flush(&mut run, &mut svg);
    }
    // The legend under the axis: a sample of each line's dash beside its name.
    let legend_y = h - 16.0;
    let mut at = left;
    for s in series {
        svg += &format!(
            "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.5\" stroke-dasharray=\"{}\"/>\
             <text x=\"{}\" y=\"{legend_y}\" text-anchor=\"{}\" font-size=\"14\">{}</text>",
            mx(at),
            mx(at + 30.0),
            legend_y - 5.0,
            legend_y - 5.0,
            s.colour,
            s.dash,
            mx(at + 36.0),
            flip("start"),
            esc(s.name)
        );
        at += 70.0 + 7.5 * s.name.chars().count() as f64;
    }
    svg + "</svg>"
}
