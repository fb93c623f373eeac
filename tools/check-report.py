#!/usr/bin/env python3
"""Checks the HTML board report (trellis report summary --format html) in headless Chromium.

    tools/check-report.py REPORT.html [--out DIR] [--tiles H]

On a phone (390 CSS px, mobile emulation) and a desktop (1280 px) screen:
  * the page never scrolls sideways: document.documentElement.scrollWidth <= the viewport width
    (a table may scroll inside its own box);
  * every svg[role=img] has an accessible name, as Chromium's accessibility tree computes it;
  * every visible piece of text is at least 12 CSS px as drawn (an SVG's scale included) and
    has a WCAG 2 contrast of at least 4.5 : 1 against what it is drawn on (3 : 1 for large text).
Printed to an A4 PDF by Chromium (print style sheet, the page's own @page rules):
  * pdftotext finds "Page i of N", the log position and the print date in every page's margins;
  * no page holds only headings or only a note (a table's footnote), no page ends with a
    heading (or a heading and its introduction), and no page but the last is more than half
    empty.

Writes report-390.png, report-1280.png and report.pdf into DIR (default: a temporary one, kept
only when --out is given). Prints one line per check; exit 0 when all pass, 1 when one fails,
69 when Chromium or pdftotext is missing. Chromium runs headless, without sandbox (CI runs as
root) and with networking to the outside switched off: the report must need nothing from it.
"""
import argparse, base64, html, json, os, re, shutil, subprocess, sys, tempfile, time


def find_browser():
    for b in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(b)
        if p:
            return p
    return None


class Browser:
    """Chromium over its DevTools pipe (fds 3 and 4, NUL-separated JSON): no port, no packages."""

    def __init__(self, path):
        self.profile = tempfile.mkdtemp(prefix="trellis-check-")
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def child_fds():
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.proc = subprocess.Popen(
            [path, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
             "--force-color-profile=srgb", f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child_fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False)
        os.close(to_r)
        os.close(from_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def _receive(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise SystemExit("check-report: Chromium closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None, timeout=120):
        self.next_id += 1
        i = self.next_id
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self._receive()
            if m.get("id") == i:
                if "error" in m:
                    raise SystemExit(f"check-report: {method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)
        raise SystemExit(f"check-report: {method} timed out")

    def wait_event(self, name, session, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for k, m in enumerate(self.events):
                if m.get("method") == name and m.get("sessionId") == session:
                    del self.events[k]
                    return m
            m = self._receive()
            self.events.append(m)
        raise SystemExit(f"check-report: no {name}")

    def page(self, url, width, height, mobile, media="screen"):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=session)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile},
                  session=session)
        self.call("Emulation.setEmulatedMedia", {"media": media}, session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        return session

    def evaluate(self, session, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        if "exceptionDetails" in r:
            raise SystemExit(f"check-report: script failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self):
        try:
            os.write(self.to_w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


# Every visible text run: its drawn font size (CSS px times the SVG's scale) and its colour and
# the colour behind it. Behind SVG text: its own halo (paint-order: stroke), else the topmost
# filled shape under its centre, else the page's background.
TEXT_PROBE = r"""
(() => {
  const out = [];
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && c !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(c)) return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const visible = (el) => {
    if (el.closest('.sr-only')) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const t = walker.currentNode;
    const el = t.parentElement;
    if (!t.textContent.trim() || seen.has(el)) continue;
    if (el.closest('title, desc, style')) continue;
    seen.add(el);
    if (!visible(el)) continue;
    const cs = getComputedStyle(el);
    const svg = el.closest('svg');
    let size = parseFloat(cs.fontSize), fg = cs.color, bg;
    if (svg) {
      const m = el.getScreenCTM();
      size = size * Math.hypot(m.a, m.b) / (window.visualViewport ? window.visualViewport.scale : 1);
      fg = cs.fill;
      if (cs.paintOrder.startsWith('stroke') && parseFloat(cs.strokeWidth) >= 2 && cs.stroke !== 'none') {
        bg = cs.stroke;
      } else {
        const r = el.getBoundingClientRect();
        const under = document.elementsFromPoint(r.left + r.width / 2, r.top + r.height / 2)
          .filter(e => e !== el && e.closest('svg') === svg && ['rect', 'circle', 'path'].includes(e.tagName)
                  && getComputedStyle(e).fill !== 'none');
        bg = under.length ? getComputedStyle(under[0]).fill : bgOf(svg);
      }
    } else {
      bg = bgOf(el);
    }
    out.push({text: t.textContent.trim().slice(0, 40), tag: el.tagName, size, fg, bg,
              bold: parseInt(cs.fontWeight) >= 700});
  }
  return out;
})()
"""


def rgb(css):
    m = re.match(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)", css or "")
    if not m:
        raise ValueError(f"colour {css!r}")
    return tuple(float(v) / 255 for v in m.groups())


def luminance(c):
    lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b):
    la, lb = sorted((luminance(rgb(a)), luminance(rgb(b))))
    return (lb + 0.05) / (la + 0.05)


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html")
    ap.add_argument("--out", help="directory for the PNGs and the PDF (kept)")
    ap.add_argument("--tiles", type=int, default=0, metavar="H", help="save the screenshots in pieces H CSS px tall")
    args = ap.parse_args()
    if not os.access(args.html, os.R_OK):
        print(f"check-report: cannot read {args.html}", file=sys.stderr)
        return 66
    browser_path = find_browser()
    if not browser_path or not shutil.which("pdftotext"):
        print("check-report: needs Chromium and pdftotext: apt-get install -y chromium poppler-utils", file=sys.stderr)
        return 69
    out = args.out or tempfile.mkdtemp(prefix="trellis-check-out-")
    os.makedirs(out, exist_ok=True)
    url = "file://" + os.path.realpath(args.html)
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    browser = Browser(browser_path)
    try:
        for width, mobile in ((390, True), (1280, False)):
            s = browser.page(url, width, 844 if mobile else 900, mobile)
            # Compared with the emulated screen, not innerWidth: on a phone an overflowing page
            # widens the layout viewport (and innerWidth) to fit.
            sw = browser.evaluate(s, "document.documentElement.scrollWidth")
            check(sw <= width, f"{width} px: page width {sw} px fits the screen ({width} px)")
            # Accessible names as Chromium computes them (aria-labelledby, <title>, aria-label).
            doc = browser.call("DOM.getDocument", {"depth": 0}, session=s)
            ids = browser.call("DOM.querySelectorAll", {"nodeId": doc["root"]["nodeId"], "selector": "svg[role=img]"},
                               session=s)["nodeIds"]
            unnamed = 0
            for node in ids:
                ax = browser.call("Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False},
                                  session=s)["nodes"]
                name = next((n.get("name", {}).get("value", "") for n in ax if not n.get("ignored")), "")
                unnamed += not name.strip()
            check(ids and unnamed == 0, f"{width} px: {len(ids)} svg[role=img], {unnamed} without an accessible name")
            metrics = browser.call("Page.getLayoutMetrics", session=s)
            height = int((metrics.get("cssContentSize") or metrics["contentSize"])["height"] + 0.999)
            # A viewport as tall as the page, so that every text has something under it to test.
            browser.call("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile},
                         session=s)
            texts = browser.evaluate(s, TEXT_PROBE)
            small = [t for t in texts if t["size"] < 11.95]
            check(not small, f"{width} px: {len(texts)} texts, {len(small)} under 12 px"
                  + (f" (e.g. {small[0]['text']!r} at {small[0]['size']:.1f} px)" if small else ""))
            low = []
            for t in texts:
                large = t["size"] >= 24 or (t["bold"] and t["size"] >= 18.66)
                r = contrast(t["fg"], t["bg"])
                if r < (3 if large else 4.5) - 1e-9:
                    low.append((r, t))
            low.sort(key=lambda x: x[0])
            check(not low, f"{width} px: {len(low)} texts below WCAG AA contrast"
                  + (f" (e.g. {low[0][1]['text']!r}: {low[0][1]['fg']} on {low[0][1]['bg']}, {low[0][0]:.2f} : 1)" if low else ""))
            # The whole page, or (--tiles H) pieces H px tall that an image viewer shows unshrunk.
            step = args.tiles or height
            for k, top in enumerate(range(0, height, step)):
                shot = browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                    "clip": {"x": 0, "y": top, "width": width, "height": min(step, height - top), "scale": 1}},
                                    session=s)
                name = f"report-{width}.png" if not args.tiles else f"report-{width}-{k + 1}.png"
                with open(os.path.join(out, name), "wb") as f:
                    f.write(base64.b64decode(shot["data"]))

        s = browser.page(url, 794, 1123, False, media="print")
        headings = [norm(h) for h in browser.evaluate(s, "[...document.querySelectorAll('h1,h2,h3,figcaption')].map(e => e.innerText)")]
        notes = [norm(n) for n in browser.evaluate(s, "[...document.querySelectorAll('.note')].map(e => e.innerText)")]
        position = browser.evaluate(s, "(document.querySelector('meta[name=trellis-log-position]') || {}).content || ''")
        # Chromium's own header carries the print date: the report never prints the clock.
        pdf = browser.call("Page.printToPDF", {
            "preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": True,
            "headerTemplate": "<div style='font-size:8px;color:#5a6776;width:100%;text-align:right;margin:0 13mm'>"
                              "Printed <span class='date'></span></div>",
            "footerTemplate": "<span></span>"}, session=s)
        pdf_path = os.path.join(out, "report.pdf")
        with open(pdf_path, "wb") as f:
            f.write(base64.b64decode(pdf["data"]))
    finally:
        browser.close()

    info = subprocess.run(["pdfinfo", pdf_path], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    check(size and abs(float(size.group(1)) - 595.3) < 2 and abs(float(size.group(2)) - 841.9) < 2,
          f"PDF: {pages} pages of A4 ({size.group(0) if size else '?'})")
    # Lines of text with their place on the page (pt from the top): what sits in the top and
    # bottom margins is the page furniture (print date, log position, page number).
    layout = subprocess.run(["pdftotext", "-bbox-layout", "-enc", "UTF-8", pdf_path, "-"],
                            capture_output=True, text=True).stdout
    page_height = float(size.group(2)) if size else 841.9
    top, bottom = 14 / 25.4 * 72, page_height - 16 / 25.4 * 72   # the @page margins
    for i, page in enumerate(re.findall(r"<page .*?</page>", layout, re.S), start=1):
        lines = []
        for m in re.finditer(r'<line xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</line>', page, re.S):
            words = [html.unescape(w) for w in re.findall(r"<word [^>]*>(.*?)</word>", m.group(3), re.S)]
            lines.append((float(m.group(1)), float(m.group(2)), norm(" ".join(words))))
        furniture = [t for y0, y1, t in lines if y1 <= top or y0 >= bottom]
        content = [(y1, t) for y0, y1, t in lines if not (y1 <= top or y0 >= bottom)]
        text = [t for _, t in content]
        has_number = f"Page {i} of {pages}" in furniture
        has_position = bool(position) and position in furniture
        has_date = any(t.startswith("Printed ") and re.search(r"\d", t) for t in furniture)
        is_heading = [any(t == h or (len(t) >= 12 and t in h) for h in headings) for t in text]
        is_note = [any(t in n for n in notes) for t in text]
        only_headings = bool(text) and all(is_heading)
        only_notes = bool(text) and all(is_note)
        # Ends with a heading: after the page's last heading come at most notes (its introduction).
        last_heading = max((k for k, h in enumerate(is_heading) if h), default=None)
        ends_with_heading = i < pages and last_heading is not None and all(is_note[last_heading + 1:])
        filled = (max((y1 for y1, _ in content), default=top) - top) / (bottom - top)
        check(has_number and has_position and has_date and text and not only_headings and not only_notes
              and not ends_with_heading and (i == pages or filled >= 0.5),
              f"PDF page {i}: {len(text)} lines, {filled:.0%} of the page filled; page number {has_number}, "
              f"log position {has_position}, print date {has_date}; only headings {only_headings}, "
              f"only a note {only_notes}, ends with a heading {ends_with_heading}")
    print(f"{len(failures)} failed; PNGs and PDF in {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
