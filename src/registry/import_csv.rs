//! Qualifications as CSV (a header line, then one row each), read into the registry
//! document that `import` applies.

use serde_json::Value;

use crate::error::FieldError;

/// The columns a qualifications CSV may have (the fields of a qualification, `removal_…`
/// for its removal), and those it must have.
const CSV_COLUMNS: &[&str] = &[
    "code",
    "name_en",
    "name_zh",
    "abbreviation",
    "issuing_body_id",
    "issuing_body",
    "field",
    "categories",
    "title_series",
    "title_level",
    "equivalences",
    "list_version",
    "demo",
    "status",
    "removal_list_version",
    "removal_removed_on",
    "removal_reason",
];
const CSV_REQUIRED: &[&str] = &["code", "name_en", "field", "categories", "list_version"];

/// A header that names unknown columns or lacks a required one is refused, rows or not:
/// a file of another shape would otherwise import nothing and say it changed nothing.
fn check_header(headers: &csv::StringRecord) -> Result<(), Vec<FieldError>> {
    let mut errors: Vec<FieldError> = headers
        .iter()
        .filter(|h| !CSV_COLUMNS.contains(h))
        .map(|h| FieldError::new("header", "unknown_column", format!("No column {h:?}.")))
        .collect();
    for required in CSV_REQUIRED {
        if !headers.iter().any(|h| h == *required) {
            errors.push(FieldError::new(
                "header",
                "missing_column",
                format!("The header needs a {required} column."),
            ));
        }
    }
    if !headers
        .iter()
        .any(|h| h == "issuing_body" || h == "issuing_body_id")
    {
        errors.push(FieldError::new(
            "header",
            "missing_column",
            "The header needs an issuing_body (or issuing_body_id) column.",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Reads CSV rows of qualifications (a header line, then one row each) into a document.
/// `categories` is a list separated by `|`, `,` or spaces; `equivalences` is JSON.
pub fn csv_document(bytes: &[u8]) -> Result<Value, Vec<FieldError>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| vec![FieldError::new("header", "invalid", e.to_string())])?
        .clone();
    check_header(&headers)?;
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(FieldError::new(
                    format!("qualifications[{i}]"),
                    "invalid",
                    e.to_string(),
                ));
                continue;
            }
        };
        let mut row = serde_json::Map::new();
        let mut removal = serde_json::Map::new();
        for (name, value) in headers.iter().zip(record.iter()) {
            if value.is_empty() {
                continue;
            }
            let parsed = match name {
                "categories" => Value::from(
                    value
                        .split(['|', ',', ' '])
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>(),
                ),
                "demo" => Value::Bool(matches!(value, "true" | "yes" | "1")),
                "equivalences" => match serde_json::from_str(value) {
                    Ok(v) => v,
                    Err(e) => {
                        errors.push(FieldError::new(
                            format!("qualifications[{i}].equivalences"),
                            "invalid",
                            e.to_string(),
                        ));
                        continue;
                    }
                },
                _ => Value::from(value),
            };
            match name.strip_prefix("removal_") {
                Some(key) => {
                    removal.insert(key.to_owned(), parsed);
                }
                None => {
                    row.insert(name.to_owned(), parsed);
                }
            }
        }
        if !removal.is_empty() {
            row.insert("removal".into(), Value::Object(removal));
        }
        items.push(Value::Object(row));
    }
    if errors.is_empty() {
        Ok(serde_json::json!({"qualifications": items}))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::csv_document;

    fn codes(errors: Vec<crate::error::FieldError>) -> Vec<String> {
        serde_json::to_value(errors)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_file_of_another_shape_is_refused_even_without_rows() {
        let refused = csv_document(b"{}").unwrap_err();
        let codes = codes(refused);
        assert!(codes.contains(&"unknown_column".to_owned()), "{codes:?}");
        assert!(codes.contains(&"missing_column".to_owned()), "{codes:?}");
        assert!(csv_document(b"").is_err());
    }

    #[test]
    fn the_columns_of_a_qualification_make_a_document() {
        let csv = b"code,name_en,issuing_body,field,categories,list_version\n\
                    acca-fcca,FCCA,acca,accounting,A|B,3.0\n";
        let doc = csv_document(csv).unwrap();
        assert_eq!(
            doc["qualifications"][0]["categories"],
            serde_json::json!(["A", "B"])
        );
        let header_only = b"code,name_en,issuing_body,field,categories,list_version\n";
        assert_eq!(
            csv_document(header_only).unwrap()["qualifications"],
            serde_json::json!([])
        );
    }
}
