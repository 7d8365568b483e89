//! The page's language and its strings. Translation files are a subset of Fluent's syntax
//! (`key = text` per line, `#` comments, `{ $name }` placeholders), read from the binary
//! at first use; docs/decisions.md ("Pages") says why not the full Fluent stack.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::HttpRequest;

const ZH: &str = include_str!("i18n/zh-CN.ftl");
const EN: &str = include_str!("i18n/en.ftl");

/// How long a chosen language is remembered.
const COOKIE_MAX_AGE_SECS: u32 = 365 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The BCP 47 tag pages carry in `<html lang>` and in `?lang=`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// `zh-CN`, `zh` or `en` as `?lang=` and the cookie take them (any case); a regional
    /// tag such as `en-GB` or `zh-Hans-CN` only from Accept-Language.
    pub fn parse(value: &str) -> Option<Lang> {
        match value.trim().to_ascii_lowercase().as_str() {
            "zh-cn" | "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn strings(self) -> &'static Strings {
        static TABLES: OnceLock<(Strings, Strings)> = OnceLock::new();
        let (zh, en) = TABLES.get_or_init(|| (Strings::parse(ZH), Strings::parse(EN)));
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// The language of a page and, when `?lang=` chose it, the cookie that remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub lang: Lang,
    pub set_cookie: Option<String>,
}

/// `?lang=`, then the `lang` cookie, then Accept-Language, then Chinese (DESIGN.md).
pub fn negotiate(req: &HttpRequest) -> Negotiated {
    let chosen = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v));
    if let Some(lang) = chosen {
        return Negotiated {
            lang,
            set_cookie: Some(format!(
                "lang={}; Path=/; Max-Age={COOKIE_MAX_AGE_SECS}; SameSite=Lax",
                lang.tag()
            )),
        };
    }
    let header_text = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let lang = cookie_lang(header_text(header::COOKIE))
        .or_else(|| accept_language(header_text(header::ACCEPT_LANGUAGE)))
        .unwrap_or(Lang::Zh);
    Negotiated {
        lang,
        set_cookie: None,
    }
}

fn cookie_lang(cookies: &str) -> Option<Lang> {
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == "lang")
        .and_then(|(_, value)| Lang::parse(value))
}

/// The supported language the client weights highest; ties keep the client's order.
fn accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = range.split('-').next().unwrap_or_default();
        let lang = match primary {
            "zh" => Lang::Zh,
            "en" => Lang::En,
            _ => continue,
        };
        let better = match best {
            None => true,
            Some((b, _)) => q > b,
        };
        if q > 0.0 && better {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// One language's strings.
#[derive(Debug)]
pub struct Strings(HashMap<String, String>);

impl Strings {
    fn parse(text: &str) -> Strings {
        let map = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Strings(map)
    }

    /// The text for `key`; a missing key shows as `⟦key⟧`, which tests look for on pages.
    pub fn get(&self, key: &str) -> String {
        match self.0.get(key) {
            Some(text) => text.clone(),
            None => format!("⟦{key}⟧"),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The text for `key` with each `{ $name }` replaced.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.get(key);
        for (name, value) in args {
            text = text.replace(&format!("{{ ${name} }}"), value);
        }
        text
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let zh: std::collections::BTreeSet<_> = Lang::Zh.strings().keys().collect();
        let en: std::collections::BTreeSet<_> = Lang::En.strings().keys().collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty(), "only in zh-CN.ftl: {only_zh:?}");
        assert!(only_en.is_empty(), "only in en.ftl: {only_en:?}");
        assert!(zh.len() > 20);
    }

    #[test]
    fn every_key_a_template_or_module_names_exists() {
        let sources = [
            include_str!("templates/base.html"),
            include_str!("templates/start.html"),
            include_str!("templates/registry.html"),
            include_str!("templates/qualification.html"),
            include_str!("templates/check.html"),
            include_str!("templates/check_result.html"),
            include_str!("templates/message.html"),
            include_str!("templates/verify.html"),
        ];
        for source in sources {
            for piece in source.split("t(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                for lang in [Lang::Zh, Lang::En] {
                    assert!(lang.strings().has(key), "{key} missing in {}", lang.tag());
                }
            }
        }
    }

    #[test]
    fn every_service_of_the_policy_table_has_a_chinese_title() {
        let table = crate::policy::PolicyTable::embedded().unwrap();
        for service in table.services() {
            let key = super::super::render::service_key(&service.code.to_string());
            assert!(Lang::Zh.strings().has(&key), "{key}");
        }
    }

    #[test]
    fn accept_language_takes_the_highest_weight_supported() {
        assert_eq!(accept_language("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(accept_language("fr, en;q=0.5, zh-CN;q=0.8"), Some(Lang::Zh));
        assert_eq!(accept_language("zh-Hant-TW"), Some(Lang::Zh));
        assert_eq!(accept_language("fr, de"), None);
        assert_eq!(accept_language("en;q=0"), None);
        assert_eq!(accept_language(""), None);
    }

    #[test]
    fn query_and_cookie_values() {
        assert_eq!(Lang::parse("zh"), Some(Lang::Zh));
        assert_eq!(Lang::parse("ZH-cn"), Some(Lang::Zh));
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(cookie_lang("a=1; lang=en"), Some(Lang::En));
        assert_eq!(cookie_lang("xlang=en"), None);
    }

    #[test]
    fn placeholders_are_filled() {
        let s = Strings::parse("k = Page { $n } of { $m }");
        assert_eq!(s.fill("k", &[("n", "1"), ("m", "2")]), "Page 1 of 2");
        assert_eq!(s.get("nope"), "⟦nope⟧");
    }
}
