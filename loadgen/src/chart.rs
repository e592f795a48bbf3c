//! The latency chart: horizontal bars (p50 and p99) per route on a log scale, with the
//! `/health` baseline as a vertical line. Rendered to an RGB buffer with plotters and
//! encoded as PNG; text uses DejaVu Sans (Debian's fonts-dejavu-core; `BENCH_FONT` overrides).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub struct Bar {
    pub label: String,
    pub p50: f64,
    pub p99: f64,
}

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

fn register_font() -> Result<(), String> {
    let path = std::env::var("BENCH_FONT")
        .ok()
        .or_else(|| {
            FONT_PATHS
                .iter()
                .find(|p| Path::new(p).exists())
                .map(|p| p.to_string())
        })
        .ok_or("no font: install fonts-dejavu-core (make bench does) or set BENCH_FONT")?;
    let bytes = std::fs::read(&path).map_err(|e| format!("reading {path}: {e}"))?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| format!("{path} is not a usable font"))
}

fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub fn render(path: &Path, title: &str, bars: &[Bar], baseline: Option<f64>) -> Result<(), String> {
    register_font()?;
    let rows = bars.len().max(1);
    let (w, h) = (1400u32, 170 + 46 * rows as u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    draw(&mut buf, (w, h), title, bars, baseline).map_err(|e| format!("drawing: {e}"))?;
    let file = std::fs::File::create(path).map_err(|e| format!("creating {path:?}: {e}"))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()
        .and_then(|mut wr| wr.write_image_data(&buf))
        .map_err(|e| format!("writing {path:?}: {e}"))
}

fn draw(
    buf: &mut [u8],
    size: (u32, u32),
    title: &str,
    bars: &[Bar],
    baseline: Option<f64>,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(buf, size).into_drawing_area();
    root.fill(&WHITE)?;
    let n = bars.len().max(1) as f64;
    let lo = bars
        .iter()
        .map(|b| b.p50)
        .chain(baseline)
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let hi = bars.iter().map(|b| b.p99).fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (10f64.powf((lo / 1.5).log10().floor()), hi * 3.0)
    } else {
        (0.1, 1000.0)
    };
    let blue = RGBColor(52, 101, 164);
    let orange = RGBColor(245, 121, 0);

    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 26))
        .margin(20)
        .margin_left(400)
        .x_label_area_size(50)
        .build_cartesian_2d((lo..hi).log_scale(), 0f64..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("milliseconds per request, client side, concurrency 1 (log scale)")
        .x_label_formatter(&|x| fmt_ms(*x))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 17))
        .draw()?;

    for (i, b) in bars.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        let series = [
            (b.p50, y + 0.52, y + 0.86, blue, "p50"),
            (b.p99, y + 0.14, y + 0.48, orange, "p99"),
        ];
        for (v, y0, y1, color, name) in series {
            if v.is_nan() || v <= 0.0 {
                continue;
            }
            let s = chart.draw_series(std::iter::once(Rectangle::new(
                [(lo, y0), (v, y1)],
                color.filled(),
            )))?;
            if i == 0 {
                s.label(name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 7), (x + 18, y + 7)], color.filled())
                });
            }
            let (px, py) = chart.backend_coord(&(v, (y0 + y1) / 2.0));
            root.draw(&Text::new(
                format!("{} ms", fmt_ms(v)),
                (px + 6, py),
                ("sans-serif", 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let (px, py) = chart.backend_coord(&(lo, y + 0.5));
        root.draw(&Text::new(
            b.label.clone(),
            (px - 12, py),
            ("sans-serif", 17)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    if let Some(base) = baseline.filter(|b| *b > 0.0) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(base, 0.0), (base, n)],
                RED.stroke_width(2),
            )))?
            .label(format!("/health p50 = {} ms (baseline)", fmt_ms(base)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()?;
    root.present()?;
    Ok(())
}
