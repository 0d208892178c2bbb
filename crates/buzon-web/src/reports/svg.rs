//! Charts and the badge, drawn as SVG on the server: readable without JavaScript, styled only
//! with presentation attributes (the pages' CSP allows no inline styles), every text escaped.

use std::fmt::Write as _;

/// Escapes text for SVG and HTML content and attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// One bar group of a distribution: its label and the counts of this and the previous period.
pub(crate) struct Bucket {
    pub label: String,
    pub current: u64,
    pub previous: u64,
}

/// A bar chart of this period's counts per bucket, with the previous period's as outlines.
pub(crate) fn distribution(
    title: &str,
    legend_current: &str,
    legend_previous: &str,
    buckets: &[Bucket],
) -> String {
    let (width, height) = (720.0, 260.0);
    let (left, right, top, bottom) = (40.0, 10.0, 34.0, 40.0);
    let plot_width = width - left - right;
    let plot_height = height - top - bottom;
    // Whole-number gridlines: the axis tops at four equal integer steps.
    let largest = buckets
        .iter()
        .map(|bucket| bucket.current.max(bucket.previous))
        .max()
        .unwrap_or(0)
        .max(1);
    let step = largest.div_ceil(4);
    let most = (step * 4) as f64;
    let slot = plot_width / buckets.len().max(1) as f64;
    let bar = (slot - 12.0) / 2.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{title}\" font-family=\"system-ui, sans-serif\" font-size=\"11\">\
         <title>{title}</title>",
        title = escape(title)
    );
    // Legend.
    let _ = write!(
        svg,
        "<rect x=\"{left}\" y=\"8\" width=\"12\" height=\"12\" fill=\"#2f6fdf\"/>\
         <text x=\"{}\" y=\"18\" fill=\"#222\">{}</text>\
         <rect x=\"{}\" y=\"8\" width=\"12\" height=\"12\" fill=\"#ffffff\" stroke=\"#8a8f98\" stroke-width=\"1.5\"/>\
         <text x=\"{}\" y=\"18\" fill=\"#222\">{}</text>",
        left + 16.0,
        escape(legend_current),
        left + 200.0,
        left + 216.0,
        escape(legend_previous)
    );
    // Axis and gridlines at quarters of the largest count.
    for tick in 0..=4_u64 {
        let value = step * tick;
        let y = top + plot_height - plot_height * tick as f64 / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e5e8\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            width - right,
            left - 6.0,
            y + 4.0,
            value
        );
    }
    for (index, bucket) in buckets.iter().enumerate() {
        let x = left + slot * index as f64 + 6.0;
        for (offset, count, fill, stroke) in [
            (0.0, bucket.current, "#2f6fdf", "none"),
            (bar, bucket.previous, "#ffffff", "#8a8f98"),
        ] {
            let bar_height = plot_height * count as f64 / most;
            let y = top + plot_height - bar_height;
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bar_height:.1}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\">\
                 <title>{}: {count}</title></rect>",
                x + offset,
                escape(&bucket.label)
            );
            if count > 0 {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\" font-size=\"10\">{count}</text>",
                    x + offset + bar / 2.0,
                    y - 3.0
                );
            }
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            x + bar,
            top + plot_height + 16.0,
            escape(&bucket.label)
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#555\"/></svg>",
        width - right,
        top + plot_height,
        top + plot_height
    );
    svg
}

/// One cell of an hour-of-week grid.
pub(crate) struct Cell {
    /// Where the cell sits on the colour scale, 0 to 1; `None` leaves it blank.
    pub intensity: Option<f64>,
    /// A short text drawn in the cell.
    pub text: String,
    /// The tooltip.
    pub tooltip: String,
}

/// Which colours a grid uses.
#[derive(Clone, Copy)]
pub(crate) enum Palette {
    /// Light to dark blue: volumes, people.
    Blues,
    /// Green (fast) to red (slow): response times.
    Speed,
}

/// A 7 × 24 grid, Monday 00:00 first, one row per day.
pub(crate) fn week_grid(
    title: &str,
    day_names: &[String; 7],
    cells: &[Cell],
    palette: Palette,
) -> String {
    let (cell_width, cell_height) = (28.0, 24.0);
    let (left, top) = (44.0, 22.0);
    let width = left + cell_width * 24.0 + 4.0;
    let height = top + cell_height * 7.0 + 4.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{title}\" font-family=\"system-ui, sans-serif\" font-size=\"10\">\
         <title>{title}</title>",
        title = escape(title)
    );
    for hour in 0..24 {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"14\" text-anchor=\"middle\" fill=\"#555\">{hour:02}</text>",
            left + cell_width * f64::from(hour) + cell_width / 2.0
        );
    }
    for (day, name) in day_names.iter().enumerate() {
        let y = top + cell_height * day as f64;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#333\">{}</text>",
            left - 6.0,
            y + cell_height / 2.0 + 4.0,
            escape(name)
        );
        for hour in 0..24 {
            let Some(cell) = cells.get(day * 24 + hour) else {
                continue;
            };
            let x = left + cell_width * hour as f64;
            let (fill, ink) = colour(palette, cell.intensity);
            let _ = write!(
                svg,
                "<g><title>{}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"#ffffff\"/>",
                escape(&cell.tooltip),
                cell_width,
                cell_height
            );
            if !cell.text.is_empty() {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{ink}\">{}</text>",
                    x + cell_width / 2.0,
                    y + cell_height / 2.0 + 3.5,
                    escape(&cell.text)
                );
            }
            svg.push_str("</g>");
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The fill and text colours of a cell.
fn colour(palette: Palette, intensity: Option<f64>) -> (String, &'static str) {
    let Some(intensity) = intensity else {
        return ("#f3f4f6".to_owned(), "#333");
    };
    let t = intensity.clamp(0.0, 1.0);
    let lerp = |from: f64, to: f64| (from + (to - from) * t).round() as u8;
    let (red, green, blue) = match palette {
        Palette::Blues => (lerp(222.0, 24.0), lerp(235.0, 73.0), lerp(247.0, 160.0)),
        Palette::Speed => {
            // Green through amber to red.
            if t < 0.5 {
                let u = t * 2.0;
                let mix = |from: f64, to: f64| (from + (to - from) * u).round() as u8;
                (mix(199.0, 253.0), mix(233.0, 216.0), mix(192.0, 118.0))
            } else {
                let u = (t - 0.5) * 2.0;
                let mix = |from: f64, to: f64| (from + (to - from) * u).round() as u8;
                (mix(253.0, 215.0), mix(216.0, 48.0), mix(118.0, 39.0))
            }
        }
    };
    let dark = match palette {
        Palette::Blues => t > 0.55,
        Palette::Speed => t > 0.8,
    };
    (
        format!("#{red:02x}{green:02x}{blue:02x}"),
        if dark { "#ffffff" } else { "#1d1d1f" },
    )
}

/// A badge in the common two-part style: `label | value`, the value on `colour`.
pub(crate) fn badge(label: &str, value: &str, colour: &str) -> String {
    // Verdana 11px averages about 6.8 px per character; pad 10 px on each side.
    let text_width = |text: &str| (text.chars().count() as f64 * 6.8).ceil() + 20.0;
    let (left, right) = (text_width(label), text_width(value));
    let width = left + right;
    let (label, value) = (escape(label), escape(value));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"20\" role=\"img\" aria-label=\"{label}: {value}\">\
         <title>{label}: {value}</title>\
         <linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <clipPath id=\"r\"><rect width=\"{width}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
         <g clip-path=\"url(#r)\"><rect width=\"{left}\" height=\"20\" fill=\"#555\"/><rect x=\"{left}\" width=\"{right}\" height=\"20\" fill=\"{colour}\"/>\
         <rect width=\"{width}\" height=\"20\" fill=\"url(#s)\"/></g>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"11\">\
         <text x=\"{:.1}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">{label}</text><text x=\"{:.1}\" y=\"14\">{label}</text>\
         <text x=\"{:.1}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">{value}</text><text x=\"{:.1}\" y=\"14\">{value}</text></g></svg>",
        left / 2.0,
        left / 2.0,
        left + right / 2.0,
        left + right / 2.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_charts_and_badges_is_escaped() {
        let svg = badge("<script>", "a\"b&c", "#4c1");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("a&quot;b&amp;c"));
        let chart = distribution(
            "</svg><script>",
            "x",
            "y",
            &[Bucket {
                label: "<b>".into(),
                current: 1,
                previous: 0,
            }],
        );
        assert!(!chart.contains("<script>") && !chart.contains("<b>"));
    }
}
