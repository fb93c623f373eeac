#!/usr/bin/env bash
# Renders an HTML report (trellis report summary --format html) to a PNG of the whole page
# at A4 width (210 mm = 794 CSS px), or any width (390 for a phone), with headless Chromium
# (Debian: apt-get install chromium); or prints it to an A4 PDF when OUT ends in .pdf.
#
#   tools/render-report.sh demo/report.html demo/report.png [width-px] [scale]
#   tools/render-report.sh demo/report.html demo/phone.png 390 2
#   tools/render-report.sh demo/report.html demo/report.pdf      page numbers, log position, print date
#   MEDIA=print tools/render-report.sh …     applies the print style sheet (A4 page CSS) to a PNG
#
# tools/check-report.py checks such renderings (page width, chart names, text size, contrast, pages).
#
# Drives Chromium over its DevTools pipe (no network port, no extra Python packages):
# load the file, measure the full page, capture it. Nothing is fetched: the report is
# self-contained, and the browser runs with networking to the outside switched off.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [width-px (default 794, A4)] [device scale (default 1)]" >&2
  exit 64
fi
html=$1
png=$2
width=${3:-794}
scale=${4:-1}
[ -r "$html" ] || { echo "$0: cannot read $html" >&2; exit 66; }

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$(command -v "$b"); break; fi
done
if [ -z "$browser" ]; then
  echo "$0: headless Chromium not found; install it: sudo apt-get install -y chromium" >&2
  exit 69
fi

exec python3 - "$browser" "$(realpath "$html")" "$png" "$width" "$scale" "${MEDIA:-screen}" <<'PY'
import base64, json, os, subprocess, sys, tempfile, time

browser, html, png, width, scale, media = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
profile = tempfile.mkdtemp(prefix="trellis-render-")
# Chromium talks CDP over fds 3 (it reads) and 4 (it writes), messages separated by NUL.
to_browser_r, to_browser_w = os.pipe()
from_browser_r, from_browser_w = os.pipe()

def child_fds():
    # Move the ends out of the way first: a pipe may itself sit on fd 3 or 4.
    a, b = os.dup(to_browser_r), os.dup(from_browser_w)
    os.dup2(a, 3)
    os.dup2(b, 4)
    os.set_inheritable(3, True)
    os.set_inheritable(4, True)

proc = subprocess.Popen(
    [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
     "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
     "--disable-component-update", "--disable-sync", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
     f"--user-data-dir={profile}", "--remote-debugging-pipe", f"--window-size={width},1000", "about:blank"],
    preexec_fn=child_fds, stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=False)
os.close(to_browser_r)
os.close(from_browser_w)

buffer = b""
next_id = 0

def send(method, params=None, session=None):
    global next_id
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if session:
        msg["sessionId"] = session
    os.write(to_browser_w, json.dumps(msg).encode() + b"\0")
    return next_id

def receive():
    global buffer
    while b"\0" not in buffer:
        chunk = os.read(from_browser_r, 1 << 20)
        if not chunk:
            raise SystemExit("render-report: Chromium closed the pipe")
        buffer += chunk
    raw, buffer = buffer.split(b"\0", 1)
    return json.loads(raw)

def call(method, params=None, session=None, timeout=60):
    i = send(method, params, session)
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = receive()
        if m.get("id") == i:
            if "error" in m:
                raise SystemExit(f"render-report: {method}: {m['error']}")
            return m.get("result", {})
    raise SystemExit(f"render-report: {method} timed out")

def wait_event(name, session, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = receive()
        if m.get("method") == name and m.get("sessionId") == session:
            return m
    raise SystemExit(f"render-report: no {name}")

try:
    target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    call("Page.enable", session=session)
    call("Emulation.setDeviceMetricsOverride",
         {"width": width, "height": 1000, "deviceScaleFactor": scale, "mobile": False}, session=session)
    pdf = png.endswith(".pdf")
    call("Emulation.setEmulatedMedia", {"media": "print" if pdf else media}, session=session)
    call("Page.navigate", {"url": "file://" + html}, session=session)
    wait_event("Page.loadEventFired", session)
    if pdf:
        # The page's @page rules give A4, page numbers and the log position; Chromium's own
        # header adds the print date (the report itself never prints the clock).
        out = call("Page.printToPDF", {
            "preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": True,
            "headerTemplate": "<div style='font-size:8px;color:#5a6776;width:100%;text-align:right;margin:0 13mm'>"
                              "Printed <span class='date'></span></div>",
            "footerTemplate": "<span></span>"}, session=session, timeout=120)
        with open(png, "wb") as f:
            f.write(base64.b64decode(out["data"]))
        print(f"{png}: A4 PDF")
        raise SystemExit(0)
    metrics = call("Page.getLayoutMetrics", session=session)
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    height = int(size["height"] + 0.999)
    shot = call("Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True,
                 "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}, session=session, timeout=120)
    with open(png, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"{png}: {width} x {height} CSS px at scale {scale:g}")
finally:
    try:
        send("Browser.close")
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    subprocess.run(["rm", "-rf", profile])
PY
