//! The module graph of `src/` (docs/ARCHITECTURE.md): no circles, nothing imports
//! `startup`, the shared state imports no feature module, the domain imports nothing.
//! Read by the workplace's `module-graph` tool (`../shared/tools/`, or the copy in
//! `scripts/` where the checkout stands alone, as in CI).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Modules below every feature module: what `app` may hold.
const FOUNDATION: &[&str] = &["auth", "config", "db", "domain", "error", "ops"];

fn graph() -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/tools/module-graph");
    let tool = if shared.exists() {
        shared
    } else {
        root.join("scripts/module-graph")
    };
    let out = Command::new("python3")
        .arg(&tool)
        .arg("src")
        .current_dir(root)
        .output()
        .expect("python3 runs the module-graph tool");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `module -> a, b, c` lines as a map.
fn arrows(text: &str) -> BTreeMap<String, Vec<String>> {
    text.lines()
        .filter_map(|l| l.split_once(" -> "))
        .map(|(from, to)| {
            let to = to
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty() && m != "-")
                .collect();
            (from.trim().to_owned(), to)
        })
        .collect()
}

#[test]
fn the_modules_form_layers_with_no_circle_and_nothing_imports_startup() {
    let (ok, text) = graph();
    assert!(
        ok,
        "module-graph found a circle or an import of startup:\n{text}"
    );
    assert!(
        text.contains("no circles; nothing imports startup"),
        "{text}"
    );
}

#[test]
fn the_shared_state_imports_only_the_foundation() {
    let (_, text) = graph();
    let arrows = arrows(&text);
    let app = arrows.get("app").expect("app is a module");
    for to in app {
        assert!(FOUNDATION.contains(&to.as_str()), "app -> {to}:\n{text}");
    }
    assert_eq!(
        arrows.get("domain"),
        Some(&vec![]),
        "domain imports nothing:\n{text}"
    );
    for (from, to) in &arrows {
        if !["startup", "main", "lib"].contains(&from.as_str()) {
            assert!(!to.iter().any(|m| m == "cli"), "{from} -> cli:\n{text}");
        }
    }
}
