//! axe-core in the browser: the WCAG 2.0, 2.1 and 2.2 A and AA rules on the open page.

use serde_json::json;

use super::Browser;

/// axe-core, vendored with its licence (see tests/fixtures/axe-core/README.md).
const AXE_JS: &str = include_str!("../../fixtures/axe-core/axe.min.js");

/// The WCAG 2.0, 2.1 and 2.2 A and AA rules of axe-core.
const AXE_TAGS: &[&str] = &[
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa",
];

/// One axe-core violation, reduced to what a reader needs to fix it.
#[derive(serde::Deserialize, Debug)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub targets: Vec<String>,
}

impl Browser {
    /// axe-core's violations of the WCAG 2.x A and AA rules on the open page.
    pub async fn axe_violations(&self) -> Vec<Violation> {
        let loaded = self
            .script("return typeof window.axe === 'object';")
            .await
            .as_bool()
            .unwrap_or(false);
        if !loaded {
            self.driver().execute(AXE_JS, Vec::new()).await.unwrap();
        }
        let run = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
              .then(r => done({ok: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' '))}))}))
              .catch(e => done({error: String(e)}));
        "#;
        let ret = self
            .driver()
            .execute_async(run, vec![json!(AXE_TAGS)])
            .await
            .unwrap();
        let value = ret.json();
        if let Some(error) = value.get("error") {
            panic!("axe-core failed on {}: {error}", self.url().await);
        }
        serde_json::from_value(value["ok"].clone()).expect("axe result")
    }

    /// Fails with every violation (rule id, impact, what to fix, each element) if any.
    pub async fn assert_accessible(&self, label: &str) {
        let violations = self.axe_violations().await;
        if violations.is_empty() {
            return;
        }
        let mut report = format!(
            "axe-core: {} violation(s) on {label} ({})\n",
            violations.len(),
            self.url().await
        );
        for v in &violations {
            report.push_str(&format!(
                "- {} [{}]: {}\n",
                v.id,
                v.impact.as_deref().unwrap_or("?"),
                v.help
            ));
            for t in &v.targets {
                report.push_str(&format!("    {t}\n"));
            }
        }
        panic!("{report}");
    }
}
