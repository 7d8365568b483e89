#!/bin/sh
# Rebuilds src/report/font/wqy-microhei-subset.ttf.z, the one font of the PDF report, from
# Debian's fonts-wqy-microhei (WenQuanYi Micro Hei 0.2.0-beta, Apache-2.0; see
# src/report/font/README.md). Kept: Latin (with Latin-1, Extended-A/B and Vietnamese),
# Greek, Cyrillic, general and CJK punctuation, full-width forms, all of GB 2312 and the
# whole CJK Unified Ideographs block (names are not limited to GB 2312: 喆, 堃, 玥 ...).
# Hinting is dropped (the PDF is printed or zoomed, never rasterised at 9 px), then the
# file is zlib-compressed; the binary inflates it once, on the first report.
#
#   apt-get install -y fonts-wqy-microhei python3-fonttools && scripts/report-font.sh
set -eu
out="$(dirname "$0")/../src/report/font/wqy-microhei-subset.ttf.z"
/usr/bin/python3 - "$out" <<'PY'
import sys, zlib, io
from fontTools.ttLib import TTCollection
from fontTools import subset

font = TTCollection("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").fonts[0]
gb2312 = set()
for b1 in range(0xA1, 0xF8):
    for b2 in range(0xA1, 0xFF):
        try:
            gb2312.add(ord(bytes([b1, b2]).decode("gb2312")))
        except UnicodeDecodeError:
            pass
ranges = [(0x20, 0x7F), (0xA0, 0x300), (0x370, 0x460), (0x1E00, 0x1F00), (0x2000, 0x2070),
          (0x20A0, 0x20C0), (0x2100, 0x2200), (0x2190, 0x2200), (0x2460, 0x2500),
          (0x25A0, 0x2600), (0x3000, 0x3040), (0x3400, 0x4DC0), (0x4E00, 0xA000),
          (0xFF00, 0xFFF0)]
chars = set(gb2312)
for lo, hi in ranges:
    chars.update(range(lo, hi))
opts = subset.Options()
opts.hinting = False
opts.name_IDs = ["*"]
opts.name_languages = ["*"]
opts.notdef_outline = True
opts.glyph_names = False
opts.layout_features = ["*"]
sub = subset.Subsetter(opts)
sub.populate(unicodes=chars)
sub.subset(font)
font.recalcTimestamp = False  # the same input gives the same bytes
buf = io.BytesIO()
font.save(buf)
raw = buf.getvalue()
with open(sys.argv[1], "wb") as f:
    f.write(zlib.compress(raw, 9))
print(f"{len(font.getBestCmap())} code points, {len(raw)} bytes, compressed to {len(zlib.compress(raw, 9))}")
PY
