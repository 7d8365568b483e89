#!/bin/sh
# Writes the sample PDF report and a PNG of it (80 dpi) to look at the layout:
#   scripts/report-sample.sh [OUT_DIR]      (default /tmp; needs poppler-utils for the PNG)
set -eu
out="${1:-/tmp}"
cargo run --quiet --example report_sample -- "$out/report-sample.pdf"
pdftoppm -png -r 80 -singlefile "$out/report-sample.pdf" "$out/report-sample"
echo "$out/report-sample.png"
