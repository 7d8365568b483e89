use super::*;

/// The text of a PDF as `pdftotext` reads it, or `None` (with a note) where poppler-utils
/// is not installed. Under CI its absence fails the test instead: CI installs it.
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext failed: {out:?}");
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("pdftotext (poppler-utils) is needed under CI to read the report: {e}")
        }
        Err(e) => {
            eprintln!("skipped: pdftotext (apt-get install -y poppler-utils) not found: {e}");
            None
        }
    }
}

#[test]
fn the_report_is_a_pdf_naming_the_record_the_holder_and_the_code() {
    let pdf = render(&sample()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let Some(text) = pdf_text(&pdf) else { return };
    for wanted in [
        "rec_01JTESTRECORD0000000000",
        "Zoë Wang",
        "王小明",
        "7QK2-M9XD-4HTR-B0ZP",
        "注册会计师",
        "Certified Public Accountant",
        "特许会计师协会",
        "有效",
        "Valid",
        "2 January 2027",
        "本报告不能代替已签名的资格记录",
        "This PDF does not stand in for the signed record.",
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in:\n{text}");
    }
    assert_eq!(
        text.matches("7QK2-M9XD-4HTR-B0ZP").count(),
        2,
        "the code and the URL"
    );
}

#[test]
fn only_the_glyphs_used_go_into_the_pdf() {
    let pdf = render(&sample()).unwrap();
    // The whole font is about 3 MB; a page of text needs a few kilobytes of it.
    assert!(pdf.len() < 120_000, "{} bytes", pdf.len());
}

#[test]
fn the_qr_code_reads_back_as_the_check_url() {
    let url = sample().check.unwrap().url;
    let (width, modules) = qr_modules(&url).unwrap();
    // As printed: four modules of quiet zone, each module a few pixels.
    let scale = 4;
    let side = (width + 8) * scale;
    let image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
        if mx < width && my < width && modules[my * width + mx] {
            0
        } else {
            255
        }
    });
    let mut image = image;
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, url);
}

#[test]
fn a_report_without_a_code_and_with_long_names_still_renders() {
    let mut data = sample();
    data.check = None;
    data.valid_until = None;
    data.holder_name = "Maximiliana Alexandrina Konstantinopoulou-Vanderbilt ".repeat(6);
    data.qualification_zh = Some("高级".repeat(200));
    let pdf = render(&data).unwrap();
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(text.contains("Maximiliana"));
    assert!(!text.contains("7QK2"));
}
