//! The page itself: A4, top to bottom the title, the record's fields (each label in Chinese
//! over English), the QR code with the share code under it, and the note that the PDF is
//! not the signed record. Coordinates in points, origin top left, text at its baseline.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use qrcode::{Color, EcLevel, QrCode};

use super::font::{self, Metrics};
use super::{Both, ReportData, ReportError, Tone};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const LEFT: f32 = 48.0;
const RIGHT: f32 = PAGE_W - 48.0;
const VALUE_X: f32 = 190.0;
/// A value longer than this many lines is cut (with an ellipsis) so the page stays one page.
const MAX_VALUE_LINES: usize = 4;
const QR_SIZE: f32 = 136.0;

const INK: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
const MUTED: (u8, u8, u8) = (0x55, 0x55, 0x55);
const RULE: (u8, u8, u8) = (0xcc, 0xcc, 0xcc);
const PANEL: (u8, u8, u8) = (0xf2, 0xf2, 0xf2);

/// One field as printed: its label, its value lines, their size and colour.
struct Row<'a> {
    label: &'a Both,
    values: Vec<String>,
    size: f32,
    colour: (u8, u8, u8),
}

/// The QR code's modules, row by row (`true` is dark), and its width in modules. Medium
/// error correction: the code survives a crease or a smudge on paper.
pub fn qr_modules(url: &str) -> Result<(usize, Vec<bool>), ReportError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|e| ReportError::Qr(e.to_string()))?;
    let modules = code.to_colors().iter().map(|c| *c == Color::Dark).collect();
    Ok((code.width(), modules))
}

pub fn page(data: &ReportData) -> Result<Vec<u8>, ReportError> {
    let bytes = font::bytes().ok_or(ReportError::Font)?;
    let metrics = Metrics::new(bytes).ok_or(ReportError::Font)?;
    let font = Font::new(bytes.into(), 0).ok_or(ReportError::Font)?;
    let qr = data
        .check
        .as_ref()
        .map(|c| qr_modules(&c.url))
        .transpose()?;

    let mut document = Document::new();
    let l = &data.labels;
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{} / {} {}",
                l.title.zh, l.title.en, data.record_id
            ))
            .language("zh-CN".into())
            .creator("certverify".into()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| ReportError::Pdf("page size".into()))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    let mut pen = Pen {
        surface: &mut surface,
        font,
        metrics,
    };

    pen.text(LEFT, 70.0, 20.0, INK, &l.title.zh);
    pen.text(LEFT, 90.0, 13.0, MUTED, &l.title.en);
    pen.rect(LEFT, 102.0, RIGHT - LEFT, 1.0, INK);

    let mut y = 104.0;
    let name = |en: &str, zh: &Option<String>| -> Vec<String> {
        zh.iter()
            .filter(|z| !z.is_empty())
            .cloned()
            .chain(std::iter::once(en.to_owned()))
            .collect()
    };
    let both = |b: &Both| vec![b.zh.clone(), b.en.clone()];
    let row = |label, values, size, colour| Row {
        label,
        values,
        size,
        colour,
    };
    let valid_until = data
        .valid_until
        .as_ref()
        .map_or_else(|| vec!["—".into()], both);
    let qualification = name(&data.qualification_en, &data.qualification_zh);
    let rows = [
        row(&l.record_id, vec![data.record_id.clone()], 11.0, INK),
        row(&l.holder, vec![data.holder_name.clone()], 14.0, INK),
        row(&l.qualification, qualification, 11.0, INK),
        row(&l.body, name(&data.body_en, &data.body_zh), 11.0, INK),
        row(&l.categories, vec![data.categories.join(", ")], 11.0, INK),
        row(&l.valid_from, both(&data.valid_from), 11.0, INK),
        row(&l.valid_until, valid_until, 11.0, INK),
        row(&l.status, both(&data.status), 12.0, tone_colour(data.tone)),
        row(&l.printed_at, both(&data.printed_at), 11.0, INK),
    ];
    for r in &rows {
        y = pen.row(y, r);
    }

    if let (Some(check), Some((width, modules))) = (&data.check, qr) {
        let top = y + 22.0;
        pen.qr(LEFT, top, width, &modules);
        let column = QR_SIZE + 20.0;
        let mut below = top + QR_SIZE + 2.0;
        below = pen.paragraph(LEFT, below, column, 8.5, INK, &l.code.zh);
        below = pen.paragraph(LEFT, below, column, 8.0, MUTED, &l.code.en) + 17.0;
        pen.text(LEFT, below, 13.0, INK, &check.code);
        below += 14.0;
        for line in [
            format!("{} {}", l.code_expires.zh, check.expires.zh),
            format!("{} {}", l.code_expires.en, check.expires.en),
        ] {
            for part in pen.metrics.wrap(&line, 8.5, column) {
                pen.text(LEFT, below, 8.5, MUTED, &part);
                below += 11.0;
            }
        }
        let x = LEFT + QR_SIZE + 26.0;
        let mut side = top + 12.0;
        side = pen.paragraph(x, side, RIGHT - x, 10.5, INK, &l.check_how.zh) + 4.0;
        side = pen.paragraph(x, side, RIGHT - x, 9.5, MUTED, &l.check_how.en) + 8.0;
        side = pen.paragraph(x, side, RIGHT - x, 9.0, INK, &check.url);
        y = below.max(side);
    }

    // The note goes last and never higher than the lower part of the page.
    let top = (y + 18.0).max(700.0);
    let width = RIGHT - LEFT - 24.0;
    let zh = pen.metrics.wrap(&l.not_the_record.zh, 10.0, width);
    let en = pen.metrics.wrap(&l.not_the_record.en, 9.0, width);
    let height = zh.len() as f32 * 14.0 + en.len() as f32 * 12.0 + 22.0;
    pen.rect(LEFT, top, RIGHT - LEFT, height, PANEL);
    pen.rect(LEFT, top, 3.0, height, INK);
    let mut line_y = top + 20.0;
    for line in zh {
        pen.text(LEFT + 12.0, line_y, 10.0, INK, &line);
        line_y += 14.0;
    }
    line_y += 2.0;
    for line in en {
        pen.text(LEFT + 12.0, line_y, 9.0, MUTED, &line);
        line_y += 12.0;
    }

    surface.finish();
    page.finish();
    document
        .finish()
        .map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

fn tone_colour(tone: Tone) -> (u8, u8, u8) {
    // Each at least 4.5:1 against white, like the pages' status colours.
    match tone {
        Tone::Good => (0x00, 0x6b, 0x2d),
        Tone::Warn => (0x8a, 0x4b, 0x00),
        Tone::Bad => (0xb0, 0x00, 0x20),
    }
}

struct Pen<'a, 'b> {
    surface: &'a mut Surface<'b>,
    font: Font,
    metrics: Metrics,
}

impl Pen<'_, '_> {
    fn fill(&mut self, (r, g, b): (u8, u8, u8)) {
        self.surface.set_fill(Some(Fill {
            paint: rgb::Color::new(r, g, b).into(),
            opacity: NormalizedF32::ONE,
            rule: Default::default(),
        }));
    }

    fn text(&mut self, x: f32, baseline: f32, size: f32, colour: (u8, u8, u8), text: &str) {
        if text.is_empty() {
            return;
        }
        self.fill(colour);
        self.surface.draw_text(
            Point::from_xy(x, baseline),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8)) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut pb = PathBuilder::new();
        pb.push_rect(rect);
        if let Some(path) = pb.finish() {
            self.fill(colour);
            self.surface.draw_path(&path);
        }
    }

    /// Wrapped text from `top`; returns the y under its last line.
    fn paragraph(
        &mut self,
        x: f32,
        top: f32,
        width: f32,
        size: f32,
        colour: (u8, u8, u8),
        text: &str,
    ) -> f32 {
        let mut y = top;
        for line in self.metrics.wrap(text, size, width) {
            y += size * 1.35;
            self.text(x, y, size, colour, &line);
        }
        y
    }

    /// One field: its label in Chinese over English on the left, the value lines on the
    /// right, a hairline under both. Returns the y under the row.
    fn row(&mut self, top: f32, row: &Row<'_>) -> f32 {
        let Row {
            label,
            values,
            size,
            colour,
        } = row;
        let (size, colour) = (*size, *colour);
        let label_width = VALUE_X - LEFT - 10.0;
        let mut left = top + 4.0;
        left = self.paragraph(LEFT, left, label_width, 9.5, MUTED, &label.zh);
        left = self.paragraph(LEFT, left, label_width, 8.0, MUTED, &label.en);
        let mut lines: Vec<String> = values
            .iter()
            .flat_map(|v| self.metrics.wrap(v, size, RIGHT - VALUE_X))
            .collect();
        if lines.len() > MAX_VALUE_LINES {
            lines.truncate(MAX_VALUE_LINES);
            if let Some(last) = lines.last_mut() {
                last.push('…');
            }
        }
        let mut right = top + 4.0;
        for line in &lines {
            right += size * 1.4;
            self.text(VALUE_X, right, size, colour, line);
        }
        let bottom = left.max(right) + 8.0;
        self.rect(LEFT, bottom, RIGHT - LEFT, 0.5, RULE);
        bottom
    }

    /// The modules as filled squares, one path of horizontal runs, in a `QR_SIZE` square
    /// that includes the four-module quiet zone the standard asks for.
    fn qr(&mut self, x: f32, y: f32, width: usize, modules: &[bool]) {
        let module = QR_SIZE / (width + 8) as f32;
        let origin = (x + 4.0 * module, y + 4.0 * module);
        let mut pb = PathBuilder::new();
        for (row, cells) in modules.chunks(width).enumerate() {
            let mut col = 0;
            while col < cells.len() {
                if !cells[col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < cells.len() && cells[col] {
                    col += 1;
                }
                if let Some(rect) = Rect::from_xywh(
                    origin.0 + start as f32 * module,
                    origin.1 + row as f32 * module,
                    (col - start) as f32 * module,
                    module,
                ) {
                    pb.push_rect(rect);
                }
            }
        }
        if let Some(path) = pb.finish() {
            self.fill((0, 0, 0));
            self.surface.draw_path(&path);
        }
    }
}
