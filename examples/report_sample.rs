//! Writes the sample report to `report-sample.pdf` (or the path given), to look at:
//! `scripts/report-sample.sh` also renders it to a PNG.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "report-sample.pdf".into());
    let pdf = certverify::report::render(&certverify::report::sample())?;
    std::fs::write(&path, &pdf)?;
    println!("{path}: {} bytes", pdf.len());
    Ok(())
}
