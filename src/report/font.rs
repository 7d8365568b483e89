//! The report's one font (WenQuanYi Micro Hei, Apache-2.0; `font/README.md`): Latin and
//! CJK in one face, so a line that mixes a Latin and a Chinese name needs no fallback.
//! Stored compressed in the binary and inflated once, on the first report.

use std::io::Read;
use std::sync::OnceLock;

static COMPRESSED: &[u8] = include_bytes!("font/wqy-microhei-subset.ttf.z");

/// The font file, or `None` if the embedded bytes do not inflate to a font (a broken build).
pub fn bytes() -> Option<&'static [u8]> {
    static FONT: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    FONT.get_or_init(|| {
        let mut out = Vec::with_capacity(COMPRESSED.len() * 2);
        flate2::read::ZlibDecoder::new(COMPRESSED)
            .read_to_end(&mut out)
            .ok()?;
        rustybuzz::Face::from_slice(&out, 0)?;
        Some(out)
    })
    .as_deref()
}

/// Text measured in this font: for line breaks, which krilla leaves to its caller.
pub struct Metrics {
    face: rustybuzz::Face<'static>,
    units_per_em: f32,
}

impl Metrics {
    pub fn new(bytes: &'static [u8]) -> Option<Self> {
        let face = rustybuzz::Face::from_slice(bytes, 0)?;
        let units_per_em = f32::from(face.units_per_em().max(1) as u16);
        Some(Metrics { face, units_per_em })
    }

    /// The advance of `text` at `size` points. A character the font lacks counts as its
    /// missing-glyph box, which is what the PDF shows for it.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                let glyph = self.face.glyph_index(c).unwrap_or_default();
                u32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0))
            })
            .sum();
        units as f32 * size / self.units_per_em
    }

    /// `text` broken into lines no wider than `max` points: between words in Latin text,
    /// between any two characters in CJK text, and inside a word only when the word alone
    /// is too wide (a long id or URL).
    pub fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for token in tokens(text) {
            let candidate = format!("{line}{token}");
            if line.is_empty() || self.width(candidate.trim_end(), size) <= max {
                line = candidate;
            } else {
                lines.push(line.trim_end().to_owned());
                line = token.trim_start().to_owned();
            }
            // A single token wider than the line is cut where it overflows.
            while self.width(line.trim_end(), size) > max && line.chars().count() > 1 {
                let cut = self.fitting_prefix(&line, size, max);
                lines.push(line[..cut].to_owned());
                line = line[cut..].to_owned();
            }
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
        }
        lines
    }

    /// The byte length of the longest prefix of `text` that fits, at least one character.
    fn fitting_prefix(&self, text: &str, size: f32, max: f32) -> usize {
        let mut end = 0;
        for (i, c) in text.char_indices() {
            let next = i + c.len_utf8();
            if end > 0 && self.width(&text[..next], size) > max {
                break;
            }
            end = next;
        }
        end
    }
}

/// Break opportunities: a CJK character is a token of its own; a Latin word is one token
/// with the spaces before it.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            out.push(c.to_string());
        } else if c.is_whitespace() {
            if !current.trim().is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current.push(' ');
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Metrics {
        Metrics::new(bytes().unwrap()).unwrap()
    }

    #[test]
    fn the_embedded_font_covers_latin_names_and_common_chinese() {
        let face = rustybuzz::Face::from_slice(bytes().unwrap(), 0).unwrap();
        for c in "Zoë Łukasz Nguyễn 王小明 喆堃玥 资格认证记录（）：，。0123456789-".chars()
        {
            if c != ' ' {
                assert!(face.glyph_index(c).is_some(), "{c} is missing");
            }
        }
    }

    #[test]
    fn latin_text_breaks_between_words_and_chinese_between_characters() {
        let m = metrics();
        let lines = m.wrap("The quick brown fox jumps over the lazy dog", 10.0, 80.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| m.width(l, 10.0) <= 80.0));
        assert_eq!(
            lines.join(" "),
            "The quick brown fox jumps over the lazy dog"
        );
        let zh = "本报告不能代替已签名的资格记录请在核验页面核对";
        let lines = m.wrap(zh, 10.0, 60.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), zh);
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut_rather_than_overflowing() {
        let m = metrics();
        let url = "https://certverify.example.org/check/ABCD-EFGH-JKMN-PQRS";
        let lines = m.wrap(url, 10.0, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), url);
        assert!(lines.iter().all(|l| m.width(l, 10.0) <= 100.0));
    }
}
