//! A made-up report: for the unit tests and `cargo run --example report_sample`, which
//! writes it out so anyone can look at the layout.

use super::*;

/// A report as a holder with a Latin and a Chinese name would print it (labels as in
/// the .ftl files at the time of writing).
pub fn sample() -> ReportData {
    let both = |zh: &str, en: &str| Both::new(zh, en);
    ReportData {
        labels: Labels {
            title: both("资格记录报告", "Qualification record report"),
            record_id: both("记录编号", "Record ID"),
            holder: both("持证人", "Holder"),
            qualification: both("资格", "Qualification"),
            body: both("颁发机构", "Issuing body"),
            categories: both("类别", "Categories"),
            valid_from: both("有效期起", "Valid from"),
            valid_until: both("有效期至", "Valid until"),
            status: both("打印时的状态", "Status when printed"),
            printed_at: both("打印时间", "Printed at"),
            check_how: both("扫描二维码核验", "Scan the QR code to check"),
            code: both("核验码", "Share code"),
            code_expires: both("核验码有效至", "The code works until"),
            not_the_record: both(
                "本报告不能代替已签名的资格记录。",
                "This PDF does not stand in for the signed record.",
            ),
        },
        record_id: "rec_01JTESTRECORD0000000000".into(),
        holder_name: "Zoë Wang 王小明".into(),
        qualification_en: "Certified Public Accountant".into(),
        qualification_zh: Some("注册会计师".into()),
        body_en: "Institute of Chartered Accountants".into(),
        body_zh: Some("特许会计师协会".into()),
        categories: vec!["A".into(), "C".into()],
        valid_from: both("2026年3月7日", "7 March 2026"),
        valid_until: Some(both("2031年3月7日", "7 March 2031")),
        status: both("有效", "Valid"),
        tone: Tone::Good,
        printed_at: both("2026年12月3日 14:35 UTC", "3 December 2026 14:35 UTC"),
        check: Some(Check {
            url: "https://certverify.example.org/check/7QK2-M9XD-4HTR-B0ZP".into(),
            code: "7QK2-M9XD-4HTR-B0ZP".into(),
            expires: both("2027年1月2日", "2 January 2027"),
        }),
    }
}
