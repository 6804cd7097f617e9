//! Charts as SVG and PNG, drawn with plotters on a bare machine: the DejaVu Sans font is
//! embedded and registered before drawing, so no system fonts are needed.
//!
//! Each chart is first described as a [`Figure`] (panels of series, each a line with an
//! optional band, and a legend) built from a run directory's CSV files; one renderer then
//! draws any figure to either backend. Conventions: titles, axis labels with units (time in
//! years), the legend in its own column so it never covers data, the Okabe–Ito colour-blind
//! safe palette, and a dash pattern per series so lines survive greyscale printing.

use super::OutputError;
use super::rundata::{Band, RunData, SeriesRecord};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;

pub use crate::looks::Look;
use crate::looks::{COLOURS, DASHES};

/// A look's colour for plotters.
fn rgb(look: Look) -> RGBColor {
    let [r, g, b] = COLOURS[look.colour];
    RGBColor(r, g, b)
}

/// The first palette colour, for charts of one series.
const FIRST: Look = Look { colour: 0, dash: 0 };

const FONT: &str = "sans-serif";
/// The font list an SVG chart declares.
const SVG_FONTS: &str = "DejaVu Sans, Verdana, sans-serif";

/// Chart size in pixels (PNG) and user units (SVG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartSize {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Default for ChartSize {
    fn default() -> Self {
        ChartSize { width: 1600, height: 1000 }
    }
}

/// A line with an optional band.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend label.
    pub label: String,
    /// Style.
    pub look: Look,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
    /// Band (x, low, high), drawn shaded beneath the line.
    pub band: Vec<(f64, f64, f64)>,
    /// Draw thinner (reference lines).
    pub thin: bool,
    /// What kind of thing it stands for ("programmes", "groups"): a legend with more than one
    /// kind lists each under its own heading. Empty: no heading.
    pub kind: &'static str,
}

/// One set of axes.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Panel title.
    pub title: String,
    /// X-axis label with unit.
    pub x_label: String,
    /// Y-axis label with unit.
    pub y_label: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// Fixed y range, or fit the data from 0.
    pub y_range: Option<(f64, f64)>,
    /// Labelled vertical rules: when a scheduled shock or policy change takes effect.
    pub marks: Vec<Mark>,
}

/// A labelled vertical rule on a time axis: when a shock or policy change takes effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Where, in the panel's x units (years from founding).
    pub x: f64,
    /// What happens there ("contract cut 60% (food_bank)").
    pub label: String,
}

/// A chart: a title, panels in a grid, and a legend column.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem (`retention` gives `retention.svg` and `retention.png`).
    pub name: String,
    /// Title across the top.
    pub title: String,
    /// One sentence saying what the chart shows (for the report).
    pub caption: String,
    /// Panels, filled row by row.
    pub panels: Vec<Panel>,
    /// Panel grid columns.
    pub columns: usize,
    /// Extra legend lines (e.g. headline statistics).
    pub notes: Vec<String>,
}

/// A drawn chart.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// File stem.
    pub name: String,
    /// Caption.
    pub caption: String,
    /// SVG text.
    pub svg: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

impl Rendered {
    /// The chart's two files, each with its path in a result directory (`charts/NAME.svg`,
    /// `charts/NAME.png`) and its bytes.
    pub fn files(&self) -> [(String, Vec<u8>); 2] {
        let dir = super::commit::CHARTS;
        [
            (format!("{dir}/{}.svg", self.name), self.svg.as_bytes().to_vec()),
            (format!("{dir}/{}.png", self.name), self.png.clone()),
        ]
    }
}

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is valid: registering it cannot fail short of a corrupt build.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

fn chart_error(chart: &str) -> impl Fn(String) -> OutputError + '_ {
    move |reason| OutputError::Chart { chart: chart.to_string(), reason }
}

/// Something that draws itself on any plotters backend.
pub trait Drawable {
    /// File stem.
    fn name(&self) -> &str;
    /// Caption.
    fn caption(&self) -> &str;
    /// Draw onto `root`.
    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, size: ChartSize) -> Result<(), String>;
}

impl Drawable for Figure {
    fn name(&self) -> &str {
        &self.name
    }
    fn caption(&self) -> &str {
        &self.caption
    }
    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, size: ChartSize) -> Result<(), String> {
        draw(root, self, size)
    }
}

/// Draw a figure (or any drawable) to SVG and PNG.
pub fn render<T: Drawable>(fig: &T, size: ChartSize) -> Result<Rendered, OutputError> {
    // Drawing takes a while: a stop request is honoured between charts.
    if crate::stop::requested() {
        return Err(OutputError::Interrupted { path: format!("chart {}", fig.name()) });
    }
    register_fonts();
    let err = chart_error(fig.name());
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (size.width, size.height)).into_drawing_area();
        fig.draw_on(&root, size).map_err(&err)?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    // The SVG names the font its text was laid out with (the PNG draws it from the embedded
    // copy), then Verdana, whose widths are close, and only then any sans-serif: a viewer
    // without DejaVu Sans keeps labels near the widths the layout allowed for.
    let svg = svg.replace(&format!("font-family=\"{FONT}\""), &format!("font-family=\"{SVG_FONTS}\""));
    let mut pixels = vec![0u8; size.width as usize * size.height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (size.width, size.height)).into_drawing_area();
        fig.draw_on(&root, size).map_err(&err)?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &pixels,
        size.width,
        size.height,
        image::ColorType::Rgb8,
    )
    .map_err(|e| err(e.to_string()))?;
    Ok(Rendered { name: fig.name().to_string(), caption: fig.caption().to_string(), svg, png })
}

/// Scale unit and a font maker for a chart size.
fn scale(size: ChartSize) -> f64 {
    size.width.min(size.height * 8 / 5) as f64 / 1600.0
}

/// A chart's layout: the scale unit, the plotting area and the legend column beside it.
type Layout<DB> = (f64, DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);

/// Frame the chart with its title and split off a legend column of `legend_share` of the width,
/// so legends never cover data.
fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    size: ChartSize,
    legend_share: f64,
) -> Result<Layout<DB>, String> {
    let unit = scale(size);
    let body = frame(root, title, unit)?;
    let legend_width = (size.width as f64 * legend_share) as i32;
    let (main, legend) = body.split_horizontally(body.dim_in_pixel().0 as i32 - legend_width);
    Ok((unit, main, legend))
}

/// Fill white, leave a margin, draw the title; returns the area below it.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    unit: f64,
) -> Result<DrawingArea<DB, Shift>, String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let pad = (14.0 * unit) as i32;
    let framed = root.margin(pad, pad / 2, pad / 2, pad / 2);
    let style = (FONT, (34.0 * unit).max(12.0), FontStyle::Bold).into_font().color(&BLACK);
    framed.titled(title, style).map_err(e)
}

fn text_style(px: f64) -> TextStyle<'static> {
    (FONT, px).into_font().color(&BLACK)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure, size: ChartSize) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (unit, main, legend) = layout(root, &fig.title, size, 0.22)?;
    let font = |pt: f64| text_style((pt * unit).max(8.0));
    let columns = fig.columns.max(1);
    let rows = fig.panels.len().div_ceil(columns).max(1);
    let areas = main.split_evenly((rows, columns));
    let stroke = (2.5 * unit).round().max(1.0) as u32;
    for (panel, area) in fig.panels.iter().zip(&areas) {
        draw_panel(area, panel, &font, stroke, unit)?;
    }
    draw_legend(&legend, fig, &font, stroke, unit).map_err(e)
}

fn bounds(panel: &Panel) -> (f64, f64, f64, f64) {
    let xs = panel.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0).chain(l.band.iter().map(|b| b.0)));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let (x0, x1) = if x0.is_finite() && x1 > x0 { (x0, x1) } else { (0.0, 1.0) };
    let (y0, y1) = panel.y_range.unwrap_or_else(|| {
        let top = panel
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1).chain(l.band.iter().map(|b| b.2)))
            .fold(0.0f64, f64::max);
        (0.0, if top > 0.0 { top * 1.08 } else { 1.0 })
    });
    (x0, x1, y0, y1)
}

fn style_of(look: Look, stroke: u32, thin: bool) -> ShapeStyle {
    let width = if thin { (stroke / 2).max(1) } else { stroke };
    rgb(look).stroke_width(width)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    font: &dyn Fn(f64) -> TextStyle<'static>,
    stroke: u32,
    unit: f64,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (x0, x1, y0, y1) = bounds(panel);
    // A title or axis label longer than its side of a small panel is set smaller rather than
    // run into its neighbours (DejaVu Sans: about 0.56 em a character).
    let (width, height) = area.dim_in_pixel();
    let margin = 12.0 * unit;
    let fitted = |text: &str, pt: f64, room: f64| {
        let want = (pt * unit).max(8.0);
        let need = text.chars().count() as f64 * 0.56 * want;
        text_style(if need > room { (want * room / need).max(8.0) } else { want })
    };
    let title = fitted(&panel.title, 24.0, width as f64 - 2.0 * margin);
    let y_room = height as f64 - 2.0 * margin - 36.0 * unit - 60.0 * unit;
    // As many y ticks as fit, two lines of tick labels apart.
    let y_ticks = ((y_room / (2.2 * 17.0 * unit)) as usize).clamp(2, 6);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, title)
        .margin(margin as u32)
        .x_label_area_size((60.0 * unit) as u32)
        .y_label_area_size((90.0 * unit) as u32)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .label_style(font(17.0))
        .axis_desc_style(fitted(&panel.y_label, 19.0, y_room))
        .x_labels(8)
        .y_labels(y_ticks)
        .y_label_formatter(&axis_format(y0, y1))
        .x_label_formatter(&axis_format(x0, x1))
        .light_line_style(RGBColor(246, 246, 246))
        .bold_line_style(RGBColor(222, 222, 222))
        .draw()
        .map_err(e)?;
    for line in &panel.lines {
        if line.band.len() > 1 {
            let mut polygon: Vec<(f64, f64)> = line.band.iter().map(|b| (b.0, b.2.min(y1))).collect();
            polygon.extend(line.band.iter().rev().map(|b| (b.0, b.1.max(y0))));
            // A thin line's band is context (a comparison's raw series): fainter.
            let fill = rgb(line.look).mix(if line.thin { 0.08 } else { 0.18 }).filled();
            chart.draw_series(std::iter::once(Polygon::new(polygon, fill))).map_err(e)?;
        }
    }
    for line in &panel.lines {
        let style = style_of(line.look, stroke, line.thin);
        let (dash, gap) = DASHES[line.look.dash];
        if dash == 0 {
            chart.draw_series(LineSeries::new(line.points.iter().copied(), style)).map_err(e)?;
        } else {
            let width = style.stroke_width.max(1);
            chart
                .draw_series(DashedLineSeries::new(line.points.iter().copied(), dash * width, gap * width, style))
                .map_err(e)?;
        }
    }
    draw_marks(&mut chart, panel, (x0, x1, y0, y1), font, stroke, unit)
}

/// A panel's policy marks: a grey dashed rule each, labelled at the top on a white ground
/// (right of the rule, or left of it near the right edge); a label that would run into an
/// earlier one goes on the next row down, so labels never overlap.
fn draw_marks<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    panel: &Panel,
    (x0, x1, y0, y1): (f64, f64, f64, f64),
    font: &dyn Fn(f64) -> TextStyle<'static>,
    stroke: u32,
    unit: f64,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let grey = RGBColor(80, 80, 80);
    let rule = grey.stroke_width((stroke / 2).max(1));
    let (size, pad) = (15.0 * unit, (4.0 * unit).round() as i32);
    let line_height = (size * 1.3).round() as i32;
    let right_edge = chart.backend_coord(&(x1, y1)).0;
    let mut taken: Vec<(i32, i32, i32)> = Vec::new();
    for mark in panel.marks.iter().filter(|m| m.x >= x0 && m.x <= x1) {
        let w = 3 * rule.stroke_width;
        chart.draw_series(DashedLineSeries::new([(mark.x, y0), (mark.x, y1)], w, w, rule)).map_err(e)?;
        let width = (mark.label.chars().count() as f64 * size * 0.56).ceil() as i32 + 2 * pad;
        let at = chart.backend_coord(&(mark.x, y1)).0;
        let left_edge = chart.backend_coord(&(x0, y1)).0;
        let left = if at + pad + width <= right_edge { at + pad } else { (at - pad - width).max(left_edge) };
        let row =
            (0..).find(|&row| !taken.iter().any(|&(l, r, k)| k == row && left < r && l < left + width)).unwrap_or(0);
        taken.push((left, left + width, row));
        let dx = left - at;
        let dy = pad + row * line_height;
        let label = EmptyElement::at((mark.x, y1))
            + Rectangle::new([(dx, dy), (dx + width, dy + line_height)], WHITE.mix(0.85).filled())
            + Text::new(mark.label.clone(), (dx + pad, dy + pad / 2), font(15.0).color(&grey));
        chart.draw_series(std::iter::once(label)).map_err(e)?;
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    font: &dyn Fn(f64) -> TextStyle<'static>,
    stroke: u32,
    unit: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut entries: Vec<(&str, Look, bool, &str)> = Vec::new();
    for line in fig.panels.iter().flat_map(|p| &p.lines) {
        if !line.label.is_empty() && !entries.iter().any(|(l, look, _, _)| *l == line.label && *look == line.look) {
            entries.push((&line.label, line.look, line.thin, line.kind));
        }
    }
    // Several kinds (programmes and groups; differences and runs) each under its heading.
    let mut kinds: Vec<&str> = Vec::new();
    for (_, _, _, kind) in &entries {
        if !kinds.contains(kind) {
            kinds.push(kind);
        }
    }
    let headed = kinds.len() > 1;
    let step = (34.0 * unit) as i32;
    let x = (10.0 * unit) as i32;
    let sample = (60.0 * unit) as i32;
    let mut y = (70.0 * unit) as i32;
    let heading = (FONT, (18.0 * unit).max(8.0), FontStyle::Bold).into_font().color(&BLACK);
    for kind in kinds {
        if headed && !kind.is_empty() {
            let mut title = kind.to_string();
            title[..1].make_ascii_uppercase();
            area.draw(&Text::new(title, (x, y - step / 3), heading.clone()))?;
            y += step;
        }
        for (label, look, thin, _) in entries.iter().filter(|e| e.3 == kind) {
            let style = style_of(*look, stroke, *thin);
            let (dash, gap) = DASHES[look.dash];
            if dash == 0 {
                area.draw(&PathElement::new(vec![(x, y), (x + sample, y)], style))?;
            } else {
                let w = style.stroke_width.max(1) as i32;
                let (d, g) = (dash as i32 * w, gap as i32 * w);
                let mut s = x;
                while s < x + sample {
                    area.draw(&PathElement::new(vec![(s, y), ((s + d).min(x + sample), y)], style))?;
                    s += d + g;
                }
            }
            area.draw(&Text::new(label.to_string(), (x + sample + (10.0 * unit) as i32, y - step / 3), font(18.0)))?;
            y += step;
        }
        if headed {
            y += step / 3;
        }
    }
    y += step / 2;
    let chars_per_line = legend_chars(area.dim_in_pixel().0 as i32, x, unit);
    for note in &fig.notes {
        for line in wrap(note, chars_per_line) {
            area.draw(&Text::new(line, (x, y - step / 3), font(18.0)))?;
            y += step * 3 / 4;
        }
        y += step / 4;
    }
    Ok(())
}

/// Characters of 18-point legend text that fit a legend column `width` pixels wide with
/// `margin` on each side: DejaVu Sans averages about 0.55 em per character.
fn legend_chars(width: i32, margin: i32, unit: f64) -> usize {
    ((width as f64 - 2.0 * margin as f64) / (18.0 * unit * 0.55)).max(10.0) as usize
}

/// Greedy word wrap to at most `width` characters per line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Axis tick labels: compact, with k and M for large numbers.
/// Tick labels for an axis from `lo` to `hi`, all in one format: the same number of decimals
/// (enough for a step of about a fifth of the range) and one unit suffix (k, M) for the
/// whole axis, so that labels never read 0, 0.20, 1 on one axis.
fn axis_format(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let top = lo.abs().max(hi.abs());
    let (scale, suffix) = if top >= 1e6 {
        (1e6, "M")
    } else if top >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let step = ((hi - lo).abs() / scale / 5.0).max(1e-12);
    let decimals = (-libm::floor(libm::log10(step))).clamp(0.0, 6.0) as usize;
    move |v: &f64| {
        let x = *v / scale;
        if suffix.is_empty() || *v == 0.0 {
            let text = format!("{x:.decimals$}");
            // No "-0.0": a zero is a zero.
            if text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
                text.trim_start_matches('-').into()
            } else {
                text
            }
        } else {
            format!("{x:.decimals$}{suffix}")
        }
    }
}

/// A series of a run as a median line and a 5–95% band against years. A coalition's line ends
/// once the series is undefined (the coalition dissolved) in more than half of the replications: past
/// that, the survivors' median would be drawn as if it were every replication's.
pub fn band_line(data: &RunData, metric: &str, coalition: &str, group: &str, label: String, look: Look) -> Line {
    line_from(drawn_rows(data, metric, coalition, group).into_iter().map(|r| (r.year, r.band)), label, look)
}

/// The rows of a series a chart draws: a coalition's while it operates in at least half of
/// the replications.
fn drawn_rows<'a>(data: &'a RunData, metric: &str, coalition: &str, group: &str) -> Vec<&'a SeriesRecord> {
    let reps = data.manifest.replications;
    let majority = |r: &&SeriesRecord| coalition == "all" || r.n.is_none_or(|n| 2 * n >= reps);
    data.series_of(metric, coalition, group).into_iter().take_while(majority).collect()
}

/// As [`band_line`], with the mean for the line: for flows that some replications lack
/// altogether (a contract lost in most of them), whose median would sit at zero under a band.
fn mean_band_line(data: &RunData, metric: &str, coalition: &str, label: String, look: Look) -> Line {
    let rows = drawn_rows(data, metric, coalition, "all");
    let mut line = line_from(rows.iter().map(|r| (r.year, r.band)), label, look);
    line.points = rows.iter().filter_map(|r| r.band.mean.map(|m| (r.year, m))).collect();
    line
}

fn line_from(rows: impl Iterator<Item = (f64, Band)>, label: String, look: Look) -> Line {
    let mut points = Vec::new();
    let mut band = Vec::new();
    for (x, b) in rows {
        if let Some(y) = b.p50 {
            points.push((x, y));
        }
        if let (Some(lo), Some(hi)) = (b.p05, b.p95) {
            band.push((x, lo, hi));
        }
    }
    Line { label, look, points, band, thin: false, kind: "" }
}

/// The look of money stream `k` (donations, grants, contract, earned income, spending) in the
/// money chart, which shows no programme's or group's line: a colour each, spending black.
fn stream_look(k: usize) -> Look {
    match k {
        0..=3 => Look { colour: k, dash: 0 },
        _ => Look { dash: 1, ..Look::TOTAL },
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{:.0}%", v * 100.0))
}

/// The standard charts of a run: retention, members, composition, governance, money (when
/// the run recorded income) and inequality.
pub fn figures(data: &RunData) -> Vec<Figure> {
    let coalitions: Vec<&str> = data.distinct(|r| &r.coalition).into_iter().filter(|c| *c != "all").collect();
    let groups: Vec<&str> = data.distinct(|r| &r.group).into_iter().filter(|g| *g != "all").collect();
    let scenario = &data.manifest.scenario;
    let reps = data.manifest.replications;
    let years = "time (years)".to_string();
    let band_note = format!("Lines: median of {reps} replications; shading: 5–95%.");
    // Each coalition and each group keeps its look (from its place in the scenario) in every
    // chart; totals ("all") are always black.
    let group_look = Look::group;
    let coalition_look = Look::coalition;
    let all_look = Look::TOTAL;
    let kind = |kind: &'static str, mut line: Line| {
        line.kind = kind;
        line
    };

    // Retention: Kaplan–Meier per group, and annual retention over time.
    let group_labels: Vec<&str> = std::iter::once("all").chain(groups.iter().copied()).collect();
    let km_lines = group_labels
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let rows = data.retention.iter().filter(|r| r.curve == "km" && r.group == *g);
            let look = if i == 0 { all_look } else { group_look(i - 1) };
            let mut line = line_from(rows.map(|r| (r.years, r.band)), group_label(g), look);
            // The pooled estimate is the line; the band is the spread across replications.
            line.points = data
                .retention
                .iter()
                .filter(|r| r.curve == "km" && r.group == *g)
                .filter_map(|r| r.estimate.map(|e| (r.years, e)))
                .collect();
            line
        })
        // Areas have no retention curves of their own: no empty legend entries for them.
        .filter(|l: &Line| !l.points.is_empty())
        .collect();
    let annual_lines = group_labels
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let rows = data.retention.iter().filter(|r| r.curve == "annual_retention" && r.group == *g);
            let look = if i == 0 { all_look } else { group_look(i - 1) };
            line_from(rows.map(|r| (r.years, r.band)), group_label(g), look)
        })
        .filter(|l: &Line| !l.points.is_empty())
        .collect();
    let retention = Figure {
        name: "retention".into(),
        title: format!("Retention of members: {scenario}"),
        caption: format!(
            "Left: Kaplan–Meier survival of membership spells by group (pooled over {reps} replications, censored at the horizon; shading: 5–95% of replications). Right: annual retention, the share of members a year earlier who are still members."
        ),
        panels: vec![
            Panel {
                title: "Survival of membership spells (Kaplan–Meier, pooled)".into(),
                x_label: "time since joining (years)".into(),
                y_label: "share of spells still running".into(),
                lines: km_lines,
                y_range: Some((0.0, 1.0)),
                marks: Vec::new(),
            },
            Panel {
                title: "Annual retention".into(),
                x_label: years.clone(),
                y_label: "share retained after one year".into(),
                lines: annual_lines,
                y_range: Some((0.0, 1.0)),
                marks: Vec::new(),
            },
        ],
        columns: 2,
        notes: vec![band_note.clone()],
    };

    // Members per coalition and per group.
    let mut by_coalition: Vec<Line> = coalitions
        .iter()
        .enumerate()
        .map(|(i, c)| kind("programmes", band_line(data, "members", c, "all", c.to_string(), coalition_look(i))))
        .collect();
    let total = kind("programmes", band_line(data, "members", "all", "all", "all coalitions".into(), all_look));
    by_coalition.push(total.clone());
    let mut by_group: Vec<Line> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| kind("groups", band_line(data, "members", "all", g, format!("group: {g}"), group_look(i))))
        .collect();
    by_group.push(total);
    let members = Figure {
        name: "members".into(),
        title: format!("Members over time: {scenario}"),
        caption: format!(
            "Members at the end of each week, per coalition (left) and per population group (right). {band_note}"
        ),
        panels: vec![
            Panel {
                title: "By coalition".into(),
                x_label: years.clone(),
                y_label: "members (people)".into(),
                lines: by_coalition,
                y_range: None,
                marks: Vec::new(),
            },
            Panel {
                title: "By population group".into(),
                x_label: years.clone(),
                y_label: "members (people)".into(),
                lines: by_group,
                y_range: None,
                marks: Vec::new(),
            },
        ],
        columns: 2,
        notes: vec![band_note.clone()],
    };

    // Composition: member shares against population shares; lived experience.
    let mut shares = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        shares.push(kind("groups", band_line(data, "member_share", "all", g, format!("group: {g}"), group_look(i))));
        if let Some(pop) = data.headline("population_share", "all", g).and_then(|r| r.mean) {
            let xs: Vec<f64> = shares.last().map(|l| l.points.iter().map(|p| p.0).collect()).unwrap_or_default();
            let (a, b) = (xs.first().copied().unwrap_or(0.0), xs.last().copied().unwrap_or(1.0));
            shares.push(Line {
                label: format!("{g}: population share"),
                look: Look::reference(group_look(i)),
                points: vec![(a, pop), (b, pop)],
                band: vec![],
                thin: true,
                kind: "groups",
            });
        }
    }
    // Lived experience: small multiples, one panel per coalition and one for all of them, so
    // that no band hides another.
    let mut composition_panels = vec![Panel {
        title: "Group shares of members".into(),
        x_label: years.clone(),
        y_label: "share of members".into(),
        lines: shares,
        y_range: Some((0.0, 1.0)),
        marks: Vec::new(),
    }];
    let lived_panel = |coalition: &str, label: String, look: Look| Panel {
        title: format!("Lived experience: {label}"),
        x_label: years.clone(),
        y_label: "share of members".into(),
        lines: vec![kind(
            "programmes",
            band_line(data, "lived_experience_share", coalition, "all", label.clone(), look),
        )],
        y_range: Some((0.0, 1.0)),
        marks: Vec::new(),
    };
    if coalitions.len() > 1 {
        composition_panels.push(lived_panel("all", "all coalitions".into(), all_look));
    }
    for (i, c) in coalitions.iter().enumerate() {
        composition_panels.push(lived_panel(c, c.to_string(), coalition_look(i)));
    }
    let composition = Figure {
        name: "composition".into(),
        title: format!("Who takes part: {scenario}"),
        caption: format!(
            "First panel: each group's share of members against its share of the population (thin dotted lines); a line below its population share means the group is under-represented. Then the share of members with lived experience, in all coalitions and in each. {band_note}"
        ),
        columns: match composition_panels.len() {
            0..=4 => 2,
            5..=9 => 3,
            _ => 4,
        },
        panels: composition_panels,
        notes: vec![band_note.clone()],
    };

    // Governance: six organisational variables per coalition.
    let governance_panels = [
        ("professionalisation", "Professionalisation P", "share of roles held by professionals", true),
        ("fairness", "Perceived fairness F", "fairness (0-1)", true),
        ("mission_alignment", "Mission alignment M", "alignment with founding mission (0-1)", true),
        ("goal_attainment", "Goal attainment G", "output / target (0-1)", true),
        ("leadership", "Leadership engagement L", "engagement (0-1)", true),
        ("budget", "Budget reserve", "budget (currency)", false),
    ]
    .into_iter()
    .map(|(metric, title, y_label, unit_range)| Panel {
        title: title.into(),
        x_label: years.clone(),
        y_label: y_label.into(),
        lines: coalitions
            .iter()
            .enumerate()
            .map(|(i, c)| band_line(data, metric, c, "all", c.to_string(), coalition_look(i)))
            .collect(),
        y_range: unit_range.then_some((0.0, 1.0)),
        marks: Vec::new(),
    })
    .collect::<Vec<Panel>>();
    // Say where a coalition's lines end, and why, rather than let a shorter axis speak.
    let mut ending_notes = Vec::new();
    for c in &coalitions {
        if let Some(end) = data.series_of("fairness", c, "all").iter().find(|r| r.n.is_some_and(|n| 2 * n < reps)) {
            ending_notes.push(format!(
                "{c}: dissolved in more than half of the replications by year {:.1}; its lines end there.",
                end.year
            ));
        }
    }
    let governance = Figure {
        name: "governance".into(),
        title: format!("Organisation of each coalition: {scenario}"),
        caption: format!(
            "Professionalisation, perceived fairness, mission alignment, goal attainment, leadership engagement and budget per coalition, over the replications in which the coalition still operates; a coalition's line ends once it has dissolved in more than half of the replications. {band_note}"
        ),
        panels: governance_panels,
        columns: 3,
        notes: std::iter::once(band_note.clone()).chain(ending_notes.iter().cloned()).collect(),
    };

    // Money: one small panel per coalition, income by stream and spending, so that "funded
    // 70% by a contract" can be read off (streams a coalition never receives are left out).
    // Its own chart, so that its legend holds money streams only.
    let streams = [
        ("income_donations", "donations"),
        ("income_grants", "grants"),
        ("income_contract", "government contract"),
        ("income_earned", "earned income"),
        ("spending", "spending"),
    ];
    let mut money_panels = Vec::new();
    for c in &coalitions {
        if data.series_of("income_donations", c, "all").is_empty() {
            continue; // a run written before income was recorded
        }
        let lines: Vec<Line> = streams
            .iter()
            .enumerate()
            .map(|(k, (metric, label))| mean_band_line(data, metric, c, label.to_string(), stream_look(k)))
            .filter(|l| l.points.iter().any(|p| p.1 > 0.0) || l.band.iter().any(|b| b.2 > 0.0))
            .collect();
        money_panels.push(Panel {
            title: format!("Money: {c}"),
            x_label: years.clone(),
            y_label: "currency a year".into(),
            lines,
            y_range: None,
            marks: Vec::new(),
        });
    }
    // The legend lists the streams in their order, not in the order panels first show them:
    // legend-only entries (no points) at the head of the first panel.
    let shown: Vec<Line> = streams
        .iter()
        .enumerate()
        .filter(|(k, _)| money_panels.iter().any(|p| p.lines.iter().any(|l| l.look == stream_look(*k))))
        .map(|(k, (_, label))| Line {
            label: label.to_string(),
            look: stream_look(k),
            points: vec![],
            band: vec![],
            thin: false,
            kind: "",
        })
        .collect();
    if let Some(first) = money_panels.first_mut() {
        first.lines.splice(0..0, shown);
    }
    let money_note = format!(
        "Lines: mean of {reps} replications (a stream some replications lack altogether has a median of 0); shading: 5–95%."
    );
    let money = Figure {
        name: "money".into(),
        title: format!("Money of each coalition: {scenario}"),
        caption: format!(
            "Each coalition's income by stream and its spending, at a yearly rate, over the replications in which it still operates. {money_note}"
        ),
        columns: if money_panels.len() > 9 { 4 } else { 3 },
        panels: money_panels,
        notes: std::iter::once(money_note).chain(ending_notes).collect(),
    };

    // Inequality: Lorenz curve of hours.
    let lorenz =
        line_from(data.lorenz.iter().map(|r| (r.participant_share, r.band)), "Lorenz curve of hours".into(), FIRST);
    let equality = Line {
        label: "equal hours".into(),
        look: Look::reference(Look::TOTAL),
        points: vec![(0.0, 0.0), (1.0, 1.0)],
        band: vec![],
        thin: true,
        kind: "",
    };
    let stat = |metric: &str, name: &str| {
        data.headline(metric, "all", "all").map_or(format!("{name}: n/a"), |r| {
            format!(
                "{name}: {:.3} (95% CI {:.3}–{:.3})",
                r.mean.unwrap_or(f64::NAN),
                r.ci95_low.unwrap_or(f64::NAN),
                r.ci95_high.unwrap_or(f64::NAN)
            )
        })
    };
    let top10 = data.headline("top10_hours_share", "all", "all").and_then(|r| r.mean);
    let inequality = Figure {
        name: "inequality".into(),
        title: format!("Who gives the hours: {scenario}"),
        caption: format!(
            "Lorenz curve of hours contributed over the horizon by everyone who took part: the bottom x of participants gave y of all hours. The top 10% gave {} of hours. {band_note}",
            pct(top10)
        ),
        panels: vec![Panel {
            title: "Concentration of hours contributed".into(),
            x_label: "share of participants, fewest hours first".into(),
            y_label: "share of all hours".into(),
            lines: vec![lorenz, equality],
            y_range: Some((0.0, 1.0)),
            marks: Vec::new(),
        }],
        columns: 1,
        notes: vec![stat("gini_hours", "Gini"), stat("top10_hours_share", "Top 10% share"), band_note],
    };
    let mut figures = vec![retention, members, composition, governance, money, inequality];
    figures.retain(|f| !f.panels.is_empty());
    mark_time_axes(&mut figures, &policy_marks(data));
    figures
}

/// Axis label with unit for a series metric.
/// The unit of a `series.csv` metric, and whether it is a share in [0, 1].
fn metric_unit(metric: &str) -> (&'static str, bool) {
    match metric {
        "members" | "participants_last_year" => ("people", false),
        "roles" | "credentialed_roles" | "roles_filled" => ("roles", false),
        "joins" | "exits" => ("people per tick", false),
        "budget" => ("currency", false),
        "income_donations" | "income_grants" | "income_contract" | "income_earned" | "spending" => {
            ("currency per year", false)
        }
        "coalitions_active" => ("coalitions", false),
        "member_share"
        | "annual_retention"
        | "lived_experience_share"
        | "professionalisation"
        | "fairness"
        | "mission_alignment"
        | "goal_attainment"
        | "leadership" => ("share, 0-1", true),
        // A metric this version does not know: no unit claimed, no range imposed.
        _ => ("", false),
    }
}

fn axis_label(metric: &str) -> String {
    match metric_unit(metric).0 {
        "" => metric.replace('_', " "),
        unit => format!("{} ({unit})", metric.replace('_', " ")),
    }
}

fn group_label(g: &str) -> String {
    if g == "all" { "all groups".into() } else { format!("group: {g}") }
}

/// When each scheduled shock and policy change of the run takes effect (years from
/// founding), and what it does, from `resolved_scenario.toml`; none for a run written
/// before that file was.
pub fn policy_marks(data: &RunData) -> Vec<Mark> {
    let Some(s) = data.resolved_scenario.as_deref().and_then(|t| crate::scenario::Scenario::parse(t, "").ok()) else {
        return Vec::new();
    };
    s.policy_marks().into_iter().map(|m| Mark { x: m.year, label: m.label }).collect()
}

/// Put `marks` on every panel whose x axis is time from founding.
fn mark_time_axes(figures: &mut [Figure], marks: &[Mark]) {
    for panel in figures.iter_mut().flat_map(|f| &mut f.panels) {
        if panel.x_label == "time (years)" {
            panel.marks = marks.to_vec();
        }
    }
}

/// Overlay one series from several runs, each labelled by its scenario name; with their
/// differences from the first run over time (`diffs`), those come first, in their own panel
/// (the question a comparison asks), and the runs' own series beside them, drawn fainter.
pub fn comparison(
    runs: &[RunData],
    metric: &str,
    coalition: &str,
    group: &str,
    diffs: &[super::comparison::OverTime],
) -> Figure {
    let names = super::comparison::run_labels(runs);
    let faint = !diffs.is_empty();
    let lines = runs
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (run, name))| {
            let mut line = band_line(run, metric, coalition, group, name.clone(), Look::nth(i));
            line.thin = faint;
            line.kind = if faint { "runs" } else { "" };
            line
        })
        .collect();
    let bounded = metric_unit(metric).1;
    let marks = comparison_marks(runs, &names);
    let series = Panel {
        title: if faint { "Each run: median and 5–95% of replications".into() } else { compare_title(&names) },
        x_label: "time (years)".into(),
        y_label: axis_label(metric),
        lines,
        y_range: bounded.then_some((0.0, 1.0)),
        marks: marks.clone(),
    };
    let what = format!("{metric} for coalition {coalition} and group {group}");
    if !faint {
        return Figure {
            name: format!("compare_{metric}"),
            title: format!("{metric}: coalition {coalition}, group {group}"),
            caption: format!("{what} in each run: median line, 5–95% of replications shaded."),
            panels: vec![series],
            columns: 1,
            notes: vec!["Lines: median; shading: 5–95%.".into()],
        };
    }
    let reps = runs.iter().map(|r| r.manifest.replications).min().unwrap_or(0);
    let mut differences: Vec<Line> = diffs
        .iter()
        .map(|d| {
            // A year in which the series is defined in fewer than half of the replications
            // (a coalition that dissolved) would speak for the survivors only: the line ends.
            let years = d.years.iter().take_while(|(_, _, _, diff)| 2 * diff.n as u32 >= reps);
            Line {
                label: format!("{} − {}", names[d.run], names[0]),
                look: Look::nth(d.run),
                points: years.clone().map(|(y, _, _, diff)| (*y, diff.mean)).collect(),
                band: years.map(|(y, _, _, diff)| (*y, diff.low, diff.high)).collect(),
                thin: false,
                kind: "differences",
            }
        })
        .collect();
    let xs: Vec<f64> = differences.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    let (a, b) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
    if a.is_finite() {
        differences.push(Line {
            label: "no difference".into(),
            look: Look::reference(Look::TOTAL),
            points: vec![(a, 0.0), (b, 0.0)],
            band: vec![],
            thin: true,
            kind: "differences",
        });
    }
    let paired = diffs.iter().all(|d| d.paired);
    let interval = if paired {
        "95% interval of the mean paired difference (Student t; replications share their random numbers)"
    } else {
        "95% interval of the difference of means (Welch; the runs' seeds differ, so replications are not paired)"
    };
    let lows = differences.iter().flat_map(|l| l.band.iter().map(|b| b.1).chain(l.points.iter().map(|p| p.1)));
    let highs = differences.iter().flat_map(|l| l.band.iter().map(|b| b.2).chain(l.points.iter().map(|p| p.1)));
    let (lo, hi) = (lows.fold(0.0f64, f64::min), highs.fold(0.0f64, f64::max));
    let pad = ((hi - lo) * 0.08).max(1e-9);
    Figure {
        name: format!("compare_{metric}"),
        title: format!("{metric}: coalition {coalition}, group {group}"),
        caption: format!(
            "Left: the difference each run makes to {what}, against {}, at each whole year: mean line, {interval} shaded. Right: each run's own series (median, 5–95% of replications shaded).",
            names[0]
        ),
        panels: vec![
            Panel {
                title: format!("Difference from {}", names[0]),
                x_label: "time (years)".into(),
                y_label: format!("difference in {}", axis_label(metric)),
                lines: differences,
                y_range: Some((lo - pad, hi + pad)),
                marks: marks.clone(),
            },
            series,
        ],
        columns: 2,
        notes: vec![
            format!("Left: mean difference; shading: {interval}."),
            "Right: median; shading: 5–95% of replications.".into(),
        ],
    }
}

/// The marks of several runs: a mark every run shares once, one of some runs only with
/// their names ("contract cut 60% (food_bank): austerity_cut").
fn comparison_marks(runs: &[RunData], names: &[String]) -> Vec<Mark> {
    let each: Vec<Vec<Mark>> = runs.iter().map(policy_marks).collect();
    let mut out: Vec<Mark> = Vec::new();
    for (i, marks) in each.iter().enumerate() {
        // A mark an earlier run has was placed with it.
        for mark in marks.iter().filter(|mark| !each[..i].iter().any(|m| m.contains(mark))) {
            let holders: Vec<&str> =
                each.iter().zip(names).filter(|(m, _)| m.contains(mark)).map(|(_, n)| n.as_str()).collect();
            let label = if holders.len() == runs.len() {
                mark.label.clone()
            } else {
                format!("{}: {}", mark.label, holders.join(", "))
            };
            out.push(Mark { x: mark.x, label });
        }
    }
    out.sort_by(|a, b| a.x.total_cmp(&b.x));
    out
}

/// The panel title of a comparison: the runs' names, while they fit on one line of the
/// narrowest chart; otherwise how many runs there are (the legend names them).
fn compare_title(names: &[String]) -> String {
    const FITS: usize = 70;
    let joined = names.join(" vs ");
    if joined.chars().count() <= FITS { joined } else { format!("{} runs compared (named in the legend)", names.len()) }
}

#[cfg(test)]
mod tests {

    #[test]
    fn keys_read_as_words_and_keep_their_paths() {
        assert_eq!(super::human_key("coalitions[0].governance.voice"), "voice (coalitions[0].governance.voice)");
        assert_eq!(super::human_key("annual_retention"), "annual retention");
        assert_eq!(super::human_key("final_members[food_bank/all]"), "final members [food_bank/all]");
        assert_eq!(super::human_key("policy.performance_regime"), "performance regime (policy.performance_regime)");
    }

    #[test]
    fn a_long_comparison_names_its_runs_in_the_legend_not_the_title() {
        let two = vec!["austerity_base".to_string(), "austerity_cut".to_string()];
        assert_eq!(super::compare_title(&two), "austerity_base vs austerity_cut");
        let six: Vec<String> = (0..6).map(|i| format!("a_rather_long_preset_name_{i}")).collect();
        assert_eq!(super::compare_title(&six), "6 runs compared (named in the legend)");
    }

    use super::*;

    /// A run whose resolved scenario is `text`, with no data.
    fn run_of(text: &str) -> RunData {
        RunData {
            dir: "r".into(),
            manifest: Default::default(),
            series: vec![],
            retention: vec![],
            summary: vec![],
            lorenz: vec![],
            resolved_scenario: Some(text.into()),
            replications: None,
        }
    }

    #[test]
    fn marks_are_placed_in_years_and_shared_marks_once() {
        let town =
            "name = \"t\"\n[[population.groups]]\nname = \"r\"\nshare = 1.0\n[[coalitions]]\nname = \"food_bank\"\n";
        let cut = format!("{town}[[policy.shocks]]\nyear = 3\ncut = 0.6\ncoalition = \"food_bank\"\n");
        // The labels are the core's (`Scenario::policy_marks`, tested there), placed in years.
        let marks = policy_marks(&run_of(&cut));
        assert_eq!(marks, [Mark { x: 3.0, label: "contract cut 60% (food_bank)".into() }]);
        let names = ["base".to_string(), "cut".to_string()];
        let both = comparison_marks(&[run_of(&cut), run_of(&cut)], &names);
        assert_eq!(both, marks);
        let one = comparison_marks(&[run_of(town), run_of(&cut)], &names);
        assert_eq!(one[0].label, "contract cut 60% (food_bank): cut");
        // A run written before resolved scenarios were: no marks, no failure.
        assert!(policy_marks(&RunData { resolved_scenario: None, ..run_of(town) }).is_empty());
    }

    fn figure() -> Figure {
        Figure {
            name: "t".into(),
            title: "A test chart".into(),
            caption: "c".into(),
            panels: vec![Panel {
                title: "panel".into(),
                x_label: "time (years)".into(),
                y_label: "members (people)".into(),
                lines: (0..3)
                    .map(|i| Line {
                        label: format!("series {i}"),
                        look: Look::nth(i),
                        points: (0..20).map(|x| (x as f64, (x * (i + 1)) as f64)).collect(),
                        band: (0..20)
                            .map(|x| (x as f64, (x * (i + 1)) as f64 * 0.8, (x * (i + 1)) as f64 * 1.2))
                            .collect(),
                        thin: false,
                        kind: "",
                    })
                    .collect(),
                y_range: None,
                marks: Vec::new(),
            }],
            columns: 1,
            notes: vec!["note".into()],
        }
    }

    #[test]
    fn renders_png_at_the_asked_size_and_svg_with_labels() {
        let size = ChartSize { width: 800, height: 500 };
        let r = render(&figure(), size).unwrap();
        let img = image::load_from_memory_with_format(&r.png, image::ImageFormat::Png).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (800, 500));
        let distinct: std::collections::HashSet<_> = img.pixels().map(|p| p.0).collect();
        assert!(distinct.len() > 20, "a chart has more than a few colours: {}", distinct.len());
        for text in ["A test chart", "time (years)", "members (people)", "series 2", "note"] {
            assert!(r.svg.contains(text), "SVG lacks {text}");
        }
    }

    #[test]
    fn looks_differ_in_colour_and_dash() {
        for i in 0..4 {
            for j in (i + 1)..4 {
                let (a, b) = (Look::nth(i), Look::nth(j));
                assert!(a.colour != b.colour && a.dash != b.dash);
            }
        }
    }

    #[test]
    fn rendering_is_deterministic() {
        let size = ChartSize { width: 400, height: 300 };
        let a = render(&figure(), size).unwrap();
        let b = render(&figure(), size).unwrap();
        assert_eq!(a.png, b.png);
        assert_eq!(a.svg, b.svg);
    }
}

/// Viridis (van der Walt & Smith 2015), perceptually uniform and colour-blind safe, by
/// linear interpolation between five anchors.
fn viridis(t: f64) -> RGBColor {
    const ANCHORS: [(f64, f64, f64); 5] =
        [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (ANCHORS[i], ANCHORS[i + 1]);
    let mix = |x: f64, y: f64| (x + f * (y - x)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A two-axis grid of values drawn as coloured cells with a colour bar.
#[derive(Debug, Clone)]
pub struct Heatmap {
    /// File stem.
    pub name: String,
    /// Title.
    pub title: String,
    /// Caption.
    pub caption: String,
    /// X-axis label.
    pub x_label: String,
    /// Y-axis label.
    pub y_label: String,
    /// X values (columns).
    pub xs: Vec<f64>,
    /// Y values (rows).
    pub ys: Vec<f64>,
    /// Labels of the columns and rows when an axis has choices (text or true/false
    /// parameters); empty for numbers.
    pub x_names: Vec<String>,
    /// See `x_names`.
    pub y_names: Vec<String>,
    /// `values[x][y]`, None where undefined.
    pub values: Vec<Vec<Option<f64>>>,
    /// `intervals[x][y]`: the 95% interval of each cell's mean, written under it, so that
    /// differences within noise can be told from real ones (empty: none shown).
    pub intervals: Vec<Vec<Option<(f64, f64)>>>,
    /// What the colour shows.
    pub value_label: String,
}

/// The label of a heatmap column or row: its choice's text, or its value.
fn named_label(names: &[String], values: &[f64], v: f64) -> String {
    let i = v.round();
    match names.get(i as usize) {
        Some(name) if (v - i).abs() < 1e-6 && i >= 0.0 => name.clone(),
        _ if !names.is_empty() => String::new(),
        _ => index_label(values, v),
    }
}

fn index_label(values: &[f64], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < values.len() {
        // Thousands as k, as on the line charts' axes (0, 20k, 40k).
        let (scale, suffix) = if values.iter().any(|x| x.abs() >= 1e4) { (1e3, "k") } else { (1.0, "") };
        let scaled: Vec<f64> = values.iter().map(|x| x / scale).collect();
        let x = scaled[i as usize];
        if x == 0.0 && !suffix.is_empty() { "0".into() } else { format!("{x:.*}{suffix}", common_decimals(&scaled)) }
    } else {
        String::new()
    }
}

/// The fewest decimals (at most 4) that write every one of `values` exactly, so that one
/// axis reads 0.40, 0.70, 1.00 rather than 0.40, 0.70, 1.
fn common_decimals(values: &[f64]) -> usize {
    (0..4)
        .find(|&d| {
            let scale = 10f64.powi(d as i32);
            values.iter().all(|v| ((v * scale).round() - v * scale).abs() < 1e-6 * scale.max(1.0))
        })
        .unwrap_or(4)
}

impl Drawable for Heatmap {
    fn name(&self) -> &str {
        &self.name
    }
    fn caption(&self) -> &str {
        &self.caption
    }
    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, size: ChartSize) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let (unit, main, legend) = layout(root, &self.title, size, 0.18)?;
        let legend_width = legend.dim_in_pixel().0 as i32;
        let font = |pt: f64| text_style((pt * unit).max(8.0));
        let (nx, ny) = (self.xs.len(), self.ys.len());
        let finite: Vec<f64> = self.values.iter().flatten().flatten().copied().filter(|v| v.is_finite()).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let span = if hi > lo { hi - lo } else { 1.0 };
        let mut chart = ChartBuilder::on(&main)
            .margin((12.0 * unit) as u32)
            .x_label_area_size((70.0 * unit) as u32)
            .y_label_area_size((100.0 * unit) as u32)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(font(17.0))
            .axis_desc_style(font(19.0))
            .x_labels(nx.min(40) * 2 + 1)
            .y_labels(ny.min(40) * 2 + 1)
            .x_label_formatter(&|v| named_label(&self.x_names, &self.xs, *v))
            .y_label_formatter(&|v| named_label(&self.y_names, &self.ys, *v))
            .draw()
            .map_err(e)?;
        for (i, column) in self.values.iter().enumerate() {
            for (j, v) in column.iter().enumerate() {
                let (x, y) = (i as f64, j as f64);
                let colour = v.map_or(RGBColor(200, 200, 200), |v| viridis((v - lo) / span));
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                        colour.filled(),
                    )))
                    .map_err(e)?;
                if nx * ny <= 144 {
                    let text = v.map_or("n/a".to_string(), |v| format!("{v:.3}"));
                    let light = v.is_some_and(|v| (v - lo) / span < 0.6);
                    let style = |pt: f64| {
                        font(pt).color(if light { &WHITE } else { &BLACK }).pos(plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Center,
                        ))
                    };
                    let interval = self.intervals.get(i).and_then(|c| c.get(j)).copied().flatten();
                    // With an interval, the mean sits a little above the centre and the
                    // interval below it.
                    let lift = if interval.is_some() { 0.12 } else { 0.0 };
                    chart.draw_series(std::iter::once(Text::new(text, (x, y + lift), style(16.0)))).map_err(e)?;
                    if let Some((a, b)) = interval {
                        let text = format!("{a:.3}–{b:.3}");
                        chart.draw_series(std::iter::once(Text::new(text, (x, y - 0.14), style(12.0)))).map_err(e)?;
                    }
                }
            }
        }
        // Colour bar.
        let x0 = (20.0 * unit) as i32;
        let (top, height, width) = ((80.0 * unit) as i32, (400.0 * unit) as i32, (40.0 * unit) as i32);
        let chars = legend_chars(legend_width, x0, unit);
        let label_lines = wrap(&self.value_label.replace('[', " ["), chars);
        let line_step = (24.0 * unit) as i32;
        let top = top + line_step * (label_lines.len() as i32 - 1);
        for (k, line) in label_lines.iter().enumerate() {
            let y = top - (40.0 * unit) as i32 - line_step * (label_lines.len() - 1 - k) as i32;
            legend.draw(&Text::new(line.clone(), (x0, y), font(18.0))).map_err(e)?;
        }
        for s in 0..height {
            let c = viridis(1.0 - s as f64 / height as f64);
            legend.draw(&Rectangle::new([(x0, top + s), (x0 + width, top + s + 1)], c.filled())).map_err(e)?;
        }
        for (frac, v) in [(0.0, hi), (0.5, (lo + hi) / 2.0), (1.0, lo)] {
            let y = top + (frac * height as f64) as i32;
            legend
                .draw(&Text::new(
                    format!("{v:.3}"),
                    (x0 + width + (8.0 * unit) as i32, y - (9.0 * unit) as i32),
                    font(17.0),
                ))
                .map_err(e)?;
        }
        Ok(())
    }
}

/// First- and total-order Sobol indices per parameter as paired bars with 95% intervals.
#[derive(Debug, Clone)]
pub struct IndexBars {
    /// File stem.
    pub name: String,
    /// Title.
    pub title: String,
    /// Caption.
    pub caption: String,
    /// Parameter labels.
    pub parameters: Vec<String>,
    /// Parameter key paths, listed beside the labels in the legend.
    pub keys: Vec<String>,
    /// (first, low, high) per parameter.
    pub first: Vec<(f64, f64, f64)>,
    /// (total, low, high) per parameter.
    pub total: Vec<(f64, f64, f64)>,
    /// The noise floor drawn across the bars, if the design has a dummy input: the dummy's
    /// total-order index (or μ*) and its interval.
    pub noise_floor: Option<(f64, f64, f64)>,
    /// What the bars measure: Sobol indices or Morris's elementary effects.
    pub measure: BarMeasure,
}

/// The measure an [`IndexBars`] chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarMeasure {
    /// First- and total-order Sobol indices: shares of variance, drawn up to at least 1.
    Sobol,
    /// Morris's μ* (with its interval) and σ, in output units per unit-cube step.
    Morris,
}

impl BarMeasure {
    fn y_label(self) -> &'static str {
        match self {
            BarMeasure::Sobol => "Sobol index (share of output variance)",
            BarMeasure::Morris => "elementary effect (output per unit-cube step)",
        }
    }

    fn series(self) -> [&'static str; 2] {
        match self {
            BarMeasure::Sobol => ["first order S_i", "total order ST_i"],
            BarMeasure::Morris => ["μ*, mean |effect|", "σ, sd of the effects"],
        }
    }

    fn floor_note(self) -> &'static str {
        match self {
            BarMeasure::Sobol => {
                "Dashed line and grey band: the noise floor, the total-order index of the dummy (the replications' random stream) and its interval; a parameter whose interval reaches the band is not told apart from replication noise."
            }
            BarMeasure::Morris => {
                "Dashed line and grey band: the noise floor, the dummy's μ* (the replications' random stream) and its interval; a parameter whose μ* interval reaches the band is not told apart from replication noise."
            }
        }
    }
}

impl Drawable for IndexBars {
    fn name(&self) -> &str {
        &self.name
    }
    fn caption(&self) -> &str {
        &self.caption
    }
    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, size: ChartSize) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let (unit, main, legend) = layout(root, &self.title, size, 0.2)?;
        let legend_width = legend.dim_in_pixel().0 as i32;
        let font = |pt: f64| text_style((pt * unit).max(8.0));
        let n = self.parameters.len();
        let least_top = if self.measure == BarMeasure::Sobol { 1.0 } else { 0.0 };
        let top = self
            .first
            .iter()
            .chain(&self.total)
            .flat_map(|b| [b.0, b.2])
            .filter(|v| v.is_finite())
            .fold(least_top, f64::max);
        let top = if top > 0.0 { top } else { 1.0 };
        let bottom = self.first.iter().chain(&self.total).map(|b| b.1).filter(|v| v.is_finite()).fold(0.0f64, f64::min);
        let mut chart = ChartBuilder::on(&main)
            .margin((12.0 * unit) as u32)
            .x_label_area_size((90.0 * unit) as u32)
            .y_label_area_size((90.0 * unit) as u32)
            .build_cartesian_2d(-0.6..n as f64 - 0.4, bottom.min(0.0)..top * 1.05)
            .map_err(e)?;
        let params = &self.parameters;
        // Characters a bar pair's slot holds at the label font (about 0.5 em a character).
        let slot = (main.dim_in_pixel().0 as f64 - 90.0 * unit) / n.max(1) as f64;
        let labels = bar_labels(params, (slot / (16.0 * unit * 0.5)) as usize);
        chart
            .configure_mesh()
            .x_desc("parameter")
            .y_desc(self.measure.y_label())
            .label_style(font(16.0))
            .axis_desc_style(font(19.0))
            .x_labels(n * 2 + 1)
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .light_line_style(RGBColor(246, 246, 246))
            .bold_line_style(RGBColor(222, 222, 222))
            .draw()
            .map_err(e)?;
        let stroke = (2.0 * unit).round().max(1.0) as u32;
        for (series, (offset, look)) in
            [&self.first, &self.total].into_iter().zip([(-0.2, Look::nth(0)), (0.2, Look::nth(1))])
        {
            let colour = rgb(look);
            for (i, &(v, lo, hi)) in series.iter().enumerate() {
                let x = i as f64 + offset;
                if v.is_finite() {
                    let (a, b) = if v >= 0.0 { (0.0, v) } else { (v, 0.0) };
                    let fill = if offset < 0.0 { colour.filled() } else { colour.mix(0.45).filled() };
                    chart
                        .draw_series(std::iter::once(Rectangle::new([(x - 0.17, a), (x + 0.17, b)], fill)))
                        .map_err(e)?;
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - 0.17, a), (x + 0.17, b)],
                            colour.stroke_width(stroke),
                        )))
                        .map_err(e)?;
                }
                if lo.is_finite() && hi.is_finite() {
                    let s = BLACK.stroke_width(stroke);
                    chart.draw_series(std::iter::once(PathElement::new(vec![(x, lo), (x, hi)], s))).map_err(e)?;
                    for y in [lo, hi] {
                        chart
                            .draw_series(std::iter::once(PathElement::new(vec![(x - 0.06, y), (x + 0.06, y)], s)))
                            .map_err(e)?;
                    }
                }
            }
        }
        let floor = self.noise_floor.filter(|f| f.0.is_finite());
        if let Some((f, lo, hi)) = floor {
            if lo.is_finite() && hi.is_finite() {
                let band = Rectangle::new([(-0.6, lo), (n as f64 - 0.4, hi)], RGBColor(90, 90, 90).mix(0.12).filled());
                chart.draw_series(std::iter::once(band)).map_err(e)?;
            }
            let style = RGBColor(90, 90, 90).stroke_width(stroke);
            chart
                .draw_series(DashedLineSeries::new([(-0.6, f), (n as f64 - 0.4, f)], 5 * stroke, 4 * stroke, style))
                .map_err(e)?;
        }
        let (x, step) = ((10.0 * unit) as i32, (36.0 * unit) as i32);
        let mut y = (70.0 * unit) as i32;
        let [first_name, second_name] = self.measure.series();
        for (label, look, alpha) in [(first_name, Look::nth(0), 1.0), (second_name, Look::nth(1), 0.45)] {
            let c = rgb(look);
            legend
                .draw(&Rectangle::new([(x, y - step / 3), (x + step, y + step / 3)], c.mix(alpha).filled()))
                .map_err(e)?;
            legend
                .draw(&Rectangle::new([(x, y - step / 3), (x + step, y + step / 3)], c.stroke_width(stroke)))
                .map_err(e)?;
            legend.draw(&Text::new(label.to_string(), (x + step + step / 3, y - step / 3), font(18.0))).map_err(e)?;
            y += step;
        }
        y += step / 2;
        let chars = legend_chars(legend_width, x, unit);
        let mut notes = vec![match self.measure {
            BarMeasure::Sobol => "Bars: estimate; whiskers: 95% bootstrap interval.",
            BarMeasure::Morris => "Bars: estimate; whiskers: 95% bootstrap interval of μ* over trajectories.",
        }];
        if floor.is_some() {
            notes.push(self.measure.floor_note());
        }
        for note in notes {
            for line in wrap(note, chars) {
                legend.draw(&Text::new(line, (x, y - step / 3), font(18.0))).map_err(e)?;
                y += step * 3 / 4;
            }
            y += step / 4;
        }
        for ((p, label), key) in params.iter().zip(&labels).zip(&self.keys) {
            y += step / 4;
            let named = if label == p { label.clone() } else { format!("{label} {p}") };
            let text = if key == p { named } else { format!("{named}: {key}") };
            for line in wrap(&text, chars) {
                legend.draw(&Text::new(line, (x, y - step / 3), font(15.0))).map_err(e)?;
                y += step * 3 / 5;
            }
        }
        Ok(())
    }
}

/// Axis labels for the bars: a parameter's label where it is distinct and fits in `fits`
/// characters, `#i` (spelled out in the legend) otherwise.
fn bar_labels(labels: &[String], fits: usize) -> Vec<String> {
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let distinct = labels.iter().filter(|m| *m == l).count() == 1;
            if distinct && l.chars().count() <= fits { l.clone() } else { format!("#{}", i + 1) }
        })
        .collect()
}

/// The last two steps of a key path, for crowded axis labels.
/// A label a reader can read for a parameter's key path or an output's name, keeping the path
/// for those who need it: `coalitions[0].governance.voice` reads "voice
/// (coalitions[0].governance.voice)", `annual_retention` reads "annual retention".
pub fn human_key(key: &str) -> String {
    let (name, detail) = match key.split_once('[') {
        // An output with its coalition and group: `final_members[food_bank/all]`.
        Some((metric, rest)) if !key.contains('.') => (metric.to_string(), format!(" [{rest}")),
        _ => {
            let last = key.rsplit('.').next().unwrap_or(key);
            let last = last.split('[').next().unwrap_or(last);
            let detail = if last == key { String::new() } else { format!(" ({key})") };
            (last.to_string(), detail)
        }
    };
    format!("{}{detail}", name.replace('_', " "))
}

/// The last two steps of a key path.
pub fn short_key(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

/// A grid of pairwise scatter plots of weighted points (a posterior's particles): the panel in
/// row `i`, column `j` (`j > i`) plots parameter `j` against parameter `i`.
#[derive(Debug, Clone)]
pub struct Scatter {
    /// File stem.
    pub name: String,
    /// Title.
    pub title: String,
    /// Caption.
    pub caption: String,
    /// Parameter key paths.
    pub labels: Vec<String>,
    /// Points, one value per parameter.
    pub points: Vec<Vec<f64>>,
    /// Weights (dot darkness).
    pub weights: Vec<f64>,
}

impl Drawable for Scatter {
    fn name(&self) -> &str {
        &self.name
    }
    fn caption(&self) -> &str {
        &self.caption
    }
    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, size: ChartSize) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let (unit, main, legend) = layout(root, &self.title, size, 0.2)?;
        let font = |pt: f64| text_style((pt * unit).max(8.0));
        let k = self.labels.len();
        let cells = main.split_evenly((k - 1, k - 1));
        let range = |d: usize| {
            let (lo, hi) = self
                .points
                .iter()
                .map(|p| p[d])
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            if lo.is_finite() && hi > lo {
                let pad = (hi - lo) * 0.04;
                (lo - pad, hi + pad)
            } else if lo.is_finite() {
                (lo - 0.5, lo + 0.5)
            } else {
                (0.0, 1.0)
            }
        };
        let top = self.weights.iter().copied().fold(0.0f64, f64::max).max(1e-300);
        let radius = (3.0 * unit).round().max(1.0) as i32;
        let particles: Vec<(f64, &[f64])> =
            self.weights.iter().copied().zip(self.points.iter().map(Vec::as_slice)).collect();
        for i in 0..k - 1 {
            for j in 1..k {
                if j <= i {
                    continue;
                }
                let area = &cells[i * (k - 1) + (j - 1)];
                let (x0, x1) = range(j);
                let (y0, y1) = range(i);
                // The weighted correlation: a strong one means the statistics inform a
                // combination of the two parameters rather than each.
                let r = crate::inference::calibrate::correlation(&particles, j, i);
                let mut chart = ChartBuilder::on(area)
                    .margin((10.0 * unit) as u32)
                    .caption(if r.is_finite() { format!("r = {r:.2}") } else { "r undefined".into() }, font(15.0))
                    .x_label_area_size((48.0 * unit) as u32)
                    .y_label_area_size((70.0 * unit) as u32)
                    .build_cartesian_2d(x0..x1, y0..y1)
                    .map_err(e)?;
                chart
                    .configure_mesh()
                    .x_desc(short_key(&self.labels[j]))
                    .y_desc(short_key(&self.labels[i]))
                    .label_style(font(14.0))
                    .axis_desc_style(font(16.0))
                    .x_labels(5)
                    .y_labels(5)
                    .x_label_formatter(&axis_format(x0, x1))
                    .y_label_formatter(&axis_format(y0, y1))
                    .light_line_style(RGBColor(246, 246, 246))
                    .bold_line_style(RGBColor(222, 222, 222))
                    .draw()
                    .map_err(e)?;
                let colour = rgb(FIRST);
                chart
                    .draw_series(
                        self.points
                            .iter()
                            .zip(&self.weights)
                            .filter(|(p, _)| p[i].is_finite() && p[j].is_finite())
                            .map(|(p, w)| {
                                Circle::new((p[j], p[i]), radius, colour.mix(0.15 + 0.85 * (w / top)).filled())
                            }),
                    )
                    .map_err(e)?;
            }
        }
        let x = (10.0 * unit) as i32;
        let step = (30.0 * unit) as i32;
        let mut y = (70.0 * unit) as i32;
        let chars = legend_chars(legend.dim_in_pixel().0 as i32, x, unit);
        for text in [format!(
            "{} particles; darker dots carry more weight; r is the pair's weighted correlation.",
            self.points.len()
        )]
        .into_iter()
        .chain(self.labels.iter().filter(|l| short_key(l) != **l).map(|l| format!("{}: {l}", short_key(l))))
        {
            for line in wrap(&text, chars) {
                legend.draw(&Text::new(line, (x, y), font(15.0))).map_err(e)?;
                y += step * 3 / 4;
            }
            y += step / 4;
        }
        Ok(())
    }
}
