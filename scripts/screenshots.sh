#!/usr/bin/env bash
# Screenshots of every public page at 320 px and 1280 px wide, in English and Chinese, into
# target/screenshots/ (git-ignored). They are taken by the browser tests that check the
# pages (axe-core at 1280 px, no sideways scrolling at 320 px), so this runs those two.
# Needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver
# fonts-wqy-microhei); fails, rather than skips, without them.
set -euo pipefail
cd "$(dirname "$0")/.."
CI=1 cargo test --test api browser::pages::every_page_
ls -1 "${CARGO_TARGET_DIR:-target}/screenshots/"*.png
