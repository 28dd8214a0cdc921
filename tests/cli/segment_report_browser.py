"""segment_report_browser.py -- the `xsell segment --report` page as a browser
shows it.  Skipped when no Chromium is installed (apt-get install chromium).

The sample store's report is rendered by headless Chromium into a PNG,
decoded here (zlib and the PNG filters, no imaging library), and checked by
colour, pixel for pixel:
  - every segment with customers has its bar colour on screen in bars (two
    charts: customers and revenue), not only in its small table swatch;
    a segment without customers has only the swatch;
  - the Pareto curve is drawn: removing its <polyline> from the page takes
    hundreds of pixels of the curve colour off the screen;
  - the lifetime value per segment is drawn: removing its chart takes
    pixels of the colour of every segment with a CLV above 0.5% of the
    total off the screen, and the P(alive) histogram: removing its bars
    (<g class="pa">) takes hundreds of pixels of its colour off, and its
    counts add up to the customers;
  - a store too small to fit says why there is no lifetime value, with the
    message escaped (a customer id with markup stays text);
  - the page draws with no network: the file is loaded from disk with the
    network switched off (--proxy-server to nowhere).
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("segment_report_browser")
browser = next((shutil.which(b) for b in ("chromium", "chromium-browser",
                                          "google-chrome")
                if shutil.which(b)), None)
if not browser:
    ck.skip("no chromium (apt-get install chromium)")

COLOURS = {  # core/offline/segment_report.c
    "Champions": "1b7a3e", "Loyal": "2e9e5b", "Potential loyalist": "6cc08b",
    "New": "2f7fc1", "Promising": "7fb3e0", "Need attention": "e3b23c",
    "About to sleep": "f0883e", "At risk": "d9534f",
    "Cannot lose them": "a4262c", "Hibernating": "8c8c8c", "Lost": "5a5a5a"}
CURVE = "1b5e8c"
PALIVE = "6a4c93"  # core/offline/segment_report.c
SWATCH_MAX = 20 * 20  # the table's swatch is 10 x 10 CSS pixels


def png_pixels(path):
    """{(r, g, b): count} of an 8-bit RGB/RGBA non-interlaced PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB",
                                                               body)
            assert depth == 8 and ctype in (2, 6) and not interlace, \
                "PNG kind %d/%d/%d" % (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    counts = {}
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        for i in range(0, stride, bpp):
            px = bytes(line[i:i + 3])
            counts[px] = counts.get(px, 0) + 1
        prev = line
    return counts


def shot(html_path, png):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu",
           "--hide-scrollbars", "--proxy-server=127.0.0.1:9",
           "--force-device-scale-factor=1", "--window-size=1000,2600",
           "--screenshot=" + png, "file://" + html_path]
    p = subprocess.run(cmd, capture_output=True, timeout=90,
                       env=dict(ck.env, HOME=ck.tmp))
    ok = ck.check(p.returncode == 0 and os.path.exists(png),
                  "chromium failed (%d): %s" % (p.returncode,
                                                p.stderr.decode()[-500:]))
    return png_pixels(png) if ok else {}


def colour(hexrgb):
    return bytes.fromhex(hexrgb)


events = ck.source("examples", "data", "events.csv")
report = os.path.join(ck.tmp, "report.html")
rc, _, err = ck.run(["segment", "--events", events, "--out",
                     os.path.join(ck.tmp, "seg.csv"), "--report", report])
if not ck.check(rc == 0, "segment: exit %d: %s" % (rc, err)):
    ck.finish()
per_segment = {}
for line in open(os.path.join(ck.tmp, "seg.csv")).read().splitlines()[1:]:
    seg = line.rsplit(",", 1)[1]
    per_segment[seg] = per_segment.get(seg, 0) + 1

px = shot(report, os.path.join(ck.tmp, "report.png"))
if px:
    for seg, hexrgb in COLOURS.items():
        n = px.get(colour(hexrgb), 0)
        if per_segment.get(seg):
            ck.check(n > 2 * SWATCH_MAX, "%s (%d customers): only %d pixels "
                     "of #%s: its bars are not drawn" % (seg, per_segment[seg],
                                                         n, hexrgb))
        else:
            ck.check(n <= SWATCH_MAX, "%s has no customers but %d pixels of "
                     "#%s" % (seg, n, hexrgb))
    html = open(report).read()
    ck.check(len(re.findall(r"<polyline class=\"pc\"", html)) == 1,
             "report: one Pareto polyline")
    bare = os.path.join(ck.tmp, "no_curve.html")
    with open(bare, "w") as f:
        f.write(re.sub(r"<polyline class=\"pc\"[^>]*/>", "", html))
    px2 = shot(bare, os.path.join(ck.tmp, "no_curve.png"))
    curve = px.get(colour(CURVE), 0) - px2.get(colour(CURVE), 0)
    ck.check(curve >= 300, "the Pareto curve accounts for %d pixels of #%s, "
             "want >= 300" % (curve, CURVE))

    # the lifetime value chart, one bar per segment with CLV
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    clv_svg = [s for s in svgs if "<title>Lifetime value per segment" in s]
    if ck.check(len(clv_svg) == 1, "report: one lifetime value chart"):
        # the segment table's CLV column, money with separators
        clv = {}
        for seg in COLOURS:
            m = re.search(r"</span>%s</td>(?:<td>[^<]*</td>){5}<td>([^<]*)"
                          % re.escape(seg), html)
            clv[seg] = float(m.group(1).replace(",", "")) if m else 0.0
        total = sum(clv.values())
        ck.check(total > 0, "report: no CLV in the segment table")
        no_clv = os.path.join(ck.tmp, "no_clv.html")
        with open(no_clv, "w") as f:
            f.write(html.replace(clv_svg[0], ""))
        px3 = shot(no_clv, os.path.join(ck.tmp, "no_clv.png"))
        for seg, hexrgb in COLOURS.items():
            if clv[seg] > 0.005 * total:
                d = px.get(colour(hexrgb), 0) - px3.get(colour(hexrgb), 0)
                ck.check(d >= 30, "%s (CLV %.2f): its CLV bar accounts for "
                         "%d pixels" % (seg, clv[seg], d))
    # the P(alive) histogram
    counts = re.search(r'<g class="pa">.*?</g>\n(.*?)</svg>', html, re.S)
    if ck.check(counts, "report: no P(alive) bars"):
        n = [int(v) for v in re.findall(r'class="vl" text-anchor="middle">'
                                        r'(\d+)</text>', counts.group(1))]
        ck.check(len(n) == 10 and sum(n) == sum(per_segment.values()),
                 "P(alive) counts %r, want 10 bins of %d customers"
                 % (n, sum(per_segment.values())))
        no_pa = os.path.join(ck.tmp, "no_pa.html")
        with open(no_pa, "w") as f:
            f.write(re.sub(r'<g class="pa">.*?</g>', "", html, flags=re.S))
        px4 = shot(no_pa, os.path.join(ck.tmp, "no_pa.png"))
        d = px.get(colour(PALIVE), 0) - px4.get(colour(PALIVE), 0)
        ck.check(d >= 300, "the P(alive) bars account for %d pixels of #%s, "
                 "want >= 300" % (d, PALIVE))
        ck.check(px4.get(colour(PALIVE), 0) == 0, "P(alive) colour elsewhere")

# a store too small for the models: the report says why, escaped
tiny = ck.write("tiny.csv", "customer,item,timestamp,price\n" + "".join(
    "%s,i,%d,1\n" % (c, 1700000000 + 86400 * d)
    for c, d in (("<b>x</b>", 0), ("<b>x</b>", 5), ("<b>x</b>", 10),
                 ("c2", 1), ("c2", 9),
                 ("c3", 2))))
small = os.path.join(ck.tmp, "tiny.html")
rc, _, err = ck.run(["segment", "--events", tiny, "--out",
                     os.path.join(ck.tmp, "tiny.csv.out"), "--report", small])
if ck.check(rc == 0, "tiny store: exit %d: %s" % (rc, err)):
    page = open(small).read()
    ck.check("Lifetime value not computed: " in page and "at least 5" in page,
             "tiny store: no reason for the missing CLV")
    ck.check("<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page,
             "tiny store: customer id not escaped")
    ck.check("P(alive)" not in page, "tiny store: a P(alive) chart")
ck.finish()
