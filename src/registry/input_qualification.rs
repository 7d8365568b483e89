//! The checks of a qualification: its own fields, and the rules across them (category C
//! maps to a title series and level, category D has equivalences, a removed item its
//! removal).

use super::input::{is_slug, optional_text, text, Errors, QualificationInput};
use crate::domain::qualification::{Category, TitleLevel};
use crate::error::FieldError;

impl QualificationInput {
    pub fn validate(mut self, prefix: &str) -> Result<(Self, Vec<Category>), Vec<FieldError>> {
        let mut e = Errors::new(prefix);
        self.code = self.code.trim().to_owned();
        if !is_slug(&self.code, 64) {
            e.add("code", "invalid", "A lower-case slug such as acca-fcca.");
        }
        self.name_en = text(&mut e, "name_en", &self.name_en, 300);
        self.name_zh = optional_text(&mut e, "name_zh", self.name_zh.as_deref(), 300);
        self.abbreviation = optional_text(&mut e, "abbreviation", self.abbreviation.as_deref(), 32);
        match (&self.issuing_body_id, &self.issuing_body) {
            (None, None) => e.add(
                "issuing_body_id",
                "required",
                "The issuing body (issuing_body_id, or issuing_body by code).",
            ),
            (Some(_), Some(_)) => e.add(
                "issuing_body",
                "ambiguous",
                "Give issuing_body_id or issuing_body, not both.",
            ),
            _ => {}
        }
        self.field = self.field.trim().to_owned();
        if !is_slug(&self.field, 64) || self.field.contains('-') {
            e.add(
                "field",
                "invalid",
                "A lower-case word or snake_case, such as information_technology.",
            );
        }
        let mut categories = Vec::new();
        for (i, c) in self.categories.iter().enumerate() {
            match Category::parse(c) {
                Some(c) if !categories.contains(&c) => categories.push(c),
                Some(_) => e.add(&format!("categories[{i}]"), "duplicate", "Listed twice."),
                None => e.add(&format!("categories[{i}]"), "invalid", "A, B, C or D."),
            }
        }
        if self.categories.is_empty() {
            e.add("categories", "empty", "At least one of A, B, C, D.");
        }
        categories.sort();
        self.categories = categories.iter().map(|c| c.as_str().to_owned()).collect();
        self.title_series = self
            .title_series
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        let is_c = categories.contains(&Category::C);
        match (&self.title_series, is_c) {
            (None, true) => e.add(
                "title_series",
                "required",
                "Category C needs its title series.",
            ),
            (Some(s), true) if !is_slug(s, 64) => e.add(
                "title_series",
                "invalid",
                "A lower-case slug such as accounting.",
            ),
            (Some(_), false) => e.add(
                "title_series",
                "only_for_c",
                "Only category C maps to a title series.",
            ),
            _ => {}
        }
        match (self.title_level.as_deref().map(TitleLevel::parse), is_c) {
            (None, true) => e.add(
                "title_level",
                "required",
                "Category C needs the highest title level it maps to.",
            ),
            (Some(None), _) => e.add(
                "title_level",
                "invalid",
                "junior, intermediate or associate_senior.",
            ),
            (Some(Some(_)), false) => e.add(
                "title_level",
                "only_for_c",
                "Only category C maps to a title level.",
            ),
            _ => {}
        }
        let is_d = categories.contains(&Category::D);
        if is_d && self.equivalences.is_empty() {
            e.add(
                "equivalences",
                "required",
                "Category D needs at least one equivalence entry.",
            );
        }
        if !is_d && !self.equivalences.is_empty() {
            e.add(
                "equivalences",
                "only_for_d",
                "Only category D has equivalence entries.",
            );
        }
        for (i, eq) in self.equivalences.iter().enumerate() {
            if eq.domestic.trim().is_empty() || eq.benefits.is_empty() {
                e.add(
                    &format!("equivalences[{i}]"),
                    "invalid",
                    "Name the domestic item and at least one benefit.",
                );
            }
            if !matches!(
                eq.domestic_kind.as_str(),
                "qualification" | "certification" | "title"
            ) {
                e.add(
                    &format!("equivalences[{i}].domestic_kind"),
                    "invalid",
                    "qualification, certification or title.",
                );
            }
        }
        self.list_version = self.list_version.trim().to_owned();
        if self.list_version.is_empty() {
            e.add(
                "list_version",
                "required",
                "The list version that added it.",
            );
        }
        match (self.status.as_deref(), &self.removal) {
            (None | Some("listed"), None) => {}
            (Some("removed"), Some(r)) if !r.reason.trim().is_empty() => {}
            (Some("removed"), _) => e.add(
                "removal",
                "required",
                "A removed item needs its removal (list_version, reason).",
            ),
            (None | Some("listed"), Some(_)) => e.add(
                "removal",
                "only_for_removed",
                "Only a removed item has a removal.",
            ),
            _ => e.add("status", "invalid", "listed or removed."),
        }
        e.finish((self, categories))
    }
}
