//! The four SVG plots of the HTML report, drawn with `plotters`' SVG backend.
//!
//! Every plot is a complete `<svg>` element as text. `plotters` escapes the text it draws
//! (`<`, `>`, `&` and quotes), so stage names, subjects and kinds from the data cannot inject
//! markup into the page.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use governance_core::{Error, FindingKind, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::RoundRecord;

/// Width of every plot, in SVG pixels.
const WIDTH: u32 = 760;
/// Height of one bar row in the bar charts, in SVG pixels.
const BAR_ROW_HEIGHT: u32 = 22;
/// Font of captions and labels; SVG viewers substitute their own sans-serif face.
const FONT: &str = "sans-serif";

/// Colours of rounds 1, 2, 3, ...; later rounds reuse them in order.
const ROUND_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn round_colour(round: u32) -> RGBColor {
    let index = (round.max(1) - 1) as usize % ROUND_COLOURS.len();
    ROUND_COLOURS[index]
}

fn plot_error(plot: &str, error: impl std::fmt::Display) -> Error {
    Error::Internal(format!("cannot draw the {plot} plot: {error}"))
}

/// Draws `draw` on an SVG canvas of `height` pixels and returns the SVG text.
fn render_svg(
    plot: &str,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|error| plot_error(plot, error))?;
        draw(&root)?;
        root.present().map_err(|error| plot_error(plot, error))?;
    }
    Ok(svg)
}

/// Points of one line: (round, value).
type Series = Vec<(f64, f64)>;

/// Returns the mean of the columns' completeness and validity of each round, in round order.
fn quality_points(rounds: &[RoundRecord]) -> (Series, Series) {
    let mut completeness = Vec::new();
    let mut validity = Vec::new();
    for record in rounds {
        let round = f64::from(record.round());
        let columns = &record.quality.columns;
        let mean = |values: Vec<f64>| {
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        if let Some(value) = mean(columns.iter().filter_map(|c| c.completeness).collect()) {
            completeness.push((round, value));
        }
        if let Some(value) = mean(columns.iter().filter_map(|c| c.validity).collect()) {
            validity.push((round, value));
        }
    }
    (completeness, validity)
}

/// Draws the mean completeness and validity of the columns per round.
pub(super) fn quality_over_rounds(rounds: &[RoundRecord]) -> Result<String> {
    const PLOT: &str = "quality over rounds";
    let (completeness, validity) = quality_points(rounds);
    let last_round = rounds.iter().map(RoundRecord::round).max().unwrap_or(1);
    let lowest = completeness
        .iter()
        .chain(&validity)
        .map(|(_, value)| *value)
        .fold(1.0_f64, f64::min);
    // The axis starts a little below the lowest value, so that small changes stay visible.
    let y_min = ((lowest - 0.05).max(0.0) * 20.0).floor() / 20.0;
    render_svg(PLOT, 340, |root| {
        let error = |error| plot_error(PLOT, error);
        let mut chart = ChartBuilder::on(root)
            .caption("Mean column quality per round", (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.5..f64::from(last_round) + 0.5, y_min..1.0)
            .map_err(error)?;
        chart
            .configure_mesh()
            .x_desc("round")
            .y_desc("share of cells (0 to 1)")
            .x_labels(last_round as usize + 2)
            .x_label_formatter(&|x| {
                let rounded = x.round();
                if (x - rounded).abs() < 1e-6 && rounded >= 1.0 {
                    format!("{rounded:.0}")
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(error)?;
        for (label, points, colour) in [
            ("completeness", &completeness, ROUND_COLOURS[0]),
            ("validity", &validity, ROUND_COLOURS[1]),
        ] {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(error)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|point| Circle::new(*point, 4, colour.filled())),
                )
                .map_err(error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(error)
    })
}

/// One bar of a horizontal bar chart: its label, value and round.
struct Bar {
    label: String,
    value: f64,
    round: u32,
}

/// Draws horizontal bars, one row per bar, with the value axis described by `value_desc`.
fn bar_chart(plot: &str, caption: &str, value_desc: &str, bars: &[Bar]) -> Result<String> {
    let rows = bars.len().max(1) as u32;
    let height = 90 + rows * BAR_ROW_HEIGHT;
    let max = bars.iter().map(|bar| bar.value).fold(0.0_f64, f64::max);
    let top = if max > 0.0 { max * 1.1 } else { 1.0 };
    let longest = bars.iter().map(|bar| bar.label.chars().count()).max();
    // About 7 pixels per character of a 12-pixel label, within a third of the width.
    let label_width = (longest.unwrap_or(8) as u32 * 7 + 16).min(WIDTH / 3);
    render_svg(plot, height, |root| {
        let error = |error| plot_error(plot, error);
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0..top, (0..rows as i32).into_segmented())
            .map_err(error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(value_desc)
            .y_labels(rows as usize)
            .y_label_formatter(&|value| match value {
                SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => bars
                    .get(*index as usize)
                    .map(|bar| bar.label.clone())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(error)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(index, bar)| {
                let index = index as i32;
                let mut rectangle = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(index)),
                        (bar.value, SegmentValue::Exact(index + 1)),
                    ],
                    round_colour(bar.round).filled(),
                );
                rectangle.set_margin(3, 3, 0, 0);
                rectangle
            }))
            .map_err(error)?;
        Ok(())
    })
}

/// Draws the issues of each round by kind.
pub(super) fn issues_by_kind(rounds: &[RoundRecord]) -> Result<String> {
    let kinds: BTreeSet<_> = rounds
        .iter()
        .flat_map(|record| record.quality.summary.issues_by_kind.keys().copied())
        .collect();
    let mut bars = Vec::new();
    for kind in kinds {
        for record in rounds {
            let count = record
                .quality
                .summary
                .issues_by_kind
                .get(&kind)
                .copied()
                .unwrap_or(0);
            bars.push(Bar {
                label: format!("{} (round {})", kind_name(&kind), record.round()),
                value: count as f64,
                round: record.round(),
            });
        }
    }
    bar_chart(
        "issues by kind",
        "Issues by kind and round",
        "issues (count)",
        &bars,
    )
}

/// Draws the wall time of each stage in each round.
pub(super) fn stage_timings(rounds: &[RoundRecord]) -> Result<String> {
    let mut bars = Vec::new();
    for record in rounds {
        for stage in &record.quality.summary.stages {
            bars.push(Bar {
                label: format!("{} (round {})", stage.name, record.round()),
                value: stage.seconds,
                round: record.round(),
            });
        }
    }
    bar_chart("stage timings", "Wall time per stage", "seconds", &bars)
}

/// Returns the serde name of an enum value, such as `out_of_range`.
pub(super) fn kind_name(kind: &impl serde::Serialize) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => "unknown".to_string(),
    }
}

/// Parses a finding's time: RFC 3339, `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DDTHH:MM:SS` (with
/// optional fractions) or `YYYY-MM-DD`, as seconds since the Unix epoch, read as UTC when the
/// text has no offset.
pub(super) fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc().timestamp());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc().timestamp())
}

fn format_time(seconds: f64) -> String {
    DateTime::from_timestamp(seconds as i64, 0)
        .map(|time| time.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// An alert placed on the timeline.
struct TimedAlert {
    seconds: i64,
    subject: usize,
    round: u32,
}

/// Draws every alert and warning with a parsable time as a point: time on the x axis, the
/// alert's subject on the y axis, coloured by round. Returns the SVG and the number of alerts
/// left out because their time is missing or not parsable.
pub(super) fn alerts_timeline(rounds: &[RoundRecord]) -> Result<(String, usize)> {
    const PLOT: &str = "alerts timeline";
    let mut subjects: Vec<String> = Vec::new();
    let mut alerts = Vec::new();
    let mut untimed = 0;
    for record in rounds {
        for finding in &record.findings {
            if !matches!(finding.kind, FindingKind::Alert | FindingKind::Warning) {
                continue;
            }
            let Some(seconds) = finding.time.as_deref().and_then(parse_time) else {
                untimed += 1;
                continue;
            };
            let subject = finding.subject.clone().unwrap_or_else(|| "-".to_string());
            let index = match subjects.iter().position(|known| *known == subject) {
                Some(index) => index,
                None => {
                    subjects.push(subject);
                    subjects.len() - 1
                }
            };
            alerts.push(TimedAlert {
                seconds,
                subject: index,
                round: record.round(),
            });
        }
    }
    let first = alerts.iter().map(|alert| alert.seconds).min().unwrap_or(0) as f64;
    let last = alerts.iter().map(|alert| alert.seconds).max().unwrap_or(0) as f64;
    // An hour of padding on each side keeps a single alert off the plot's edges.
    let (start, end) = (first - 3600.0, last + 3600.0);
    let rows = subjects.len().max(1) as u32;
    let caption = if alerts.is_empty() {
        "Alerts over time (none with a time)".to_string()
    } else {
        format!("Alerts over time ({} alerts)", alerts.len())
    };
    let svg = render_svg(PLOT, 110 + rows * BAR_ROW_HEIGHT, |root| {
        let error = |error| plot_error(PLOT, error);
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(120)
            .build_cartesian_2d(start..end, (0..rows as i32).into_segmented())
            .map_err(error)?;
        chart
            .configure_mesh()
            .x_desc("time (UTC)")
            .x_labels(5)
            .x_label_formatter(&|seconds| format_time(*seconds))
            .y_labels(rows as usize)
            .y_label_formatter(&|value| match value {
                SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => {
                    subjects.get(*index as usize).cloned().unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(error)?;
        chart
            .draw_series(alerts.iter().map(|alert| {
                Circle::new(
                    (
                        alert.seconds as f64,
                        SegmentValue::CenterOf(alert.subject as i32),
                    ),
                    4,
                    round_colour(alert.round).filled(),
                )
            }))
            .map_err(error)?;
        Ok(())
    })?;
    Ok((svg, untimed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_time_reads_common_forms() {
        assert_eq!(parse_time("1970-01-02"), Some(86_400));
        assert_eq!(parse_time("1970-01-01T01:00:00"), Some(3_600));
        assert_eq!(parse_time("1970-01-01 00:01:00"), Some(60));
        assert_eq!(parse_time("1970-01-01T00:00:10+00:00"), Some(10));
        assert_eq!(parse_time("yesterday"), None);
    }
}
