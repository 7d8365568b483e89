//! The PDF report of a record (DESIGN.md "Web pages"): one A4 page in Chinese and English.
//! IO-free and language-free: the caller hands in every word already translated (labels
//! come from the pages' .ftl files) and gets the file's bytes back. Imports no feature
//! module, so the pages, the CLI or a test can print the same report.

mod draw;
mod font;
mod sample;

pub use draw::qr_modules;
pub use sample::sample;

/// A text in both languages, Chinese first as printed.
#[derive(Debug, Clone, Default)]
pub struct Both {
    pub zh: String,
    pub en: String,
}

impl Both {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Both {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// How the status is coloured: valid, suspended, revoked or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
}

/// The words around the record's data.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub title: Both,
    pub record_id: Both,
    pub holder: Both,
    pub qualification: Both,
    pub body: Both,
    pub categories: Both,
    pub valid_from: Both,
    pub valid_until: Both,
    pub status: Both,
    pub printed_at: Both,
    /// Above the QR code: how to check this report.
    pub check_how: Both,
    /// Beside the printed code.
    pub code: Both,
    pub code_expires: Both,
    /// That the PDF does not stand in for the signed record.
    pub not_the_record: Both,
}

/// A share code made with the report, printed once, with the URL its QR code opens.
#[derive(Debug, Clone)]
pub struct Check {
    /// e.g. `https://host/check/ABCD-EFGH-JKMN-PQRS`.
    pub url: String,
    pub code: String,
    /// When the code stops working, in both languages.
    pub expires: Both,
}

/// Everything printed. Dates arrive formatted in each language.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub labels: Labels,
    pub record_id: String,
    pub holder_name: String,
    pub qualification_en: String,
    pub qualification_zh: Option<String>,
    pub body_en: String,
    pub body_zh: Option<String>,
    pub categories: Vec<String>,
    pub valid_from: Both,
    pub valid_until: Option<Both>,
    /// The status at the time of printing.
    pub status: Both,
    pub tone: Tone,
    pub printed_at: Both,
    pub check: Option<Check>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the embedded report font cannot be read")]
    Font,
    #[error("the check URL does not fit a QR code: {0}")]
    Qr(String),
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// The report as a PDF file.
pub fn render(data: &ReportData) -> Result<Vec<u8>, ReportError> {
    draw::page(data)
}

#[cfg(test)]
mod tests;
