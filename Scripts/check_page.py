#!/usr/bin/env python3
"""Check the web page of `t5 serve` (Sources/T5Server/Public) in a real headless Chromium.

    python3 -m venv .venv-server
    .venv-server/bin/pip install -r Scripts/requirements-server.txt
    apt-get install -y chromium                     # Debian's; nothing is downloaded by this script
    .build/release/t5 serve --model Models/demo-t5 --port 8080 &
    .venv-server/bin/python Scripts/check_page.py --url http://127.0.0.1:8080/ --screenshot page.png

It drives the page the way a user does, over the Chrome DevTools protocol (Chromium started with
--headless --remote-debugging-port, a throwaway profile): the status badge must say "ready" and name the
model; a streamed greedy completion typed into the page must appear in several steps and end with the
same text the API returns for the same request without streaming; a negative temperature must be refused by the
form, max_tokens 10^9 must show the server's OpenAI error object (HTTP 400) in the error box; Stop must end a long stream at once. Any
JavaScript exception fails the check. --screenshot saves the page after the streamed answer (PNG).
Exits 1 on any failure. Takes a few seconds with the demo model; not in CI (CI has no Chromium).
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # websocket-client

PROMPT = ("Nora has 30 flowers. She loses 26 flowers. Then she gives away 2 flowers. "
          "How many flowers does Nora have now?")


class Browser:
    """A headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, chromium, width, height):
        self.profile = tempfile.mkdtemp(prefix="t5-page-check-")
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.exceptions = []
        self.call("Runtime.enable")
        self.call("Page.enable")

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Runtime.exceptionThrown":
                d = msg["params"]["exceptionDetails"]
                self.exceptions.append(d.get("exception", {}).get("description") or d.get("text"))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {expression[:80]}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expression, timeout, interval=0.025):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.js(expression):
                return True
            time.sleep(interval)
        return False

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


FILL = """(() => {{
  const set = (id, v) => {{ const e = document.getElementById(id);
    if (e.type === 'checkbox') e.checked = v; else e.value = v; }};
  const values = {values};
  for (const [k, v] of Object.entries(values)) set(k, v);
  document.getElementById('run').click();
  return document.getElementById('run').disabled;
}})()"""

STATE = """(() => ({
  output: document.getElementById('output').textContent,
  stats: document.getElementById('stats').textContent,
  error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
  running: document.getElementById('run').disabled,
}))()"""


def run_in_page(browser, values, timeout, on_progress=None):
    """Fills the form, clicks Generate and samples the output until the run ends; returns the final state and the
    distinct output lengths seen on the way."""
    if not browser.js(FILL.format(values=json.dumps(values))):
        raise RuntimeError("Generate did not start a request")
    lengths = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = browser.js(STATE)
        if not lengths or lengths[-1] != len(state["output"]):
            lengths.append(len(state["output"]))
        if on_progress and on_progress(state):
            on_progress = None
        if not state["running"]:
            return state, lengths
        time.sleep(0.02)
    raise RuntimeError(f"the run did not end within {timeout} s")


def api_completion(base, body, api_key):
    req = urllib.request.Request(base + "v1/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {api_key}"} if api_key else {})})
    return json.load(urllib.request.urlopen(req, timeout=120))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080/", help="the page (the server's root)")
    ap.add_argument("--screenshot", help="save the page after the streamed answer to this PNG")
    ap.add_argument("--error-screenshot", help="save the page showing the 400 error to this PNG")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--api-key", help="the server's --api-key, typed into the page's key field")
    ap.add_argument("--prompt", default=PROMPT)
    ap.add_argument("--cot", default="zero-shot", help="the page's chain-of-thought choice ('' for off)")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--timeout", type=float, default=120, help="seconds one generation may take")
    args = ap.parse_args()
    base = args.url if args.url.endswith("/") else args.url + "/"

    failures = []

    def check(ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    browser = Browser(args.chromium, 1100, 1000)
    try:
        browser.call("Page.navigate", url=base)
        browser.wait("document.readyState === 'complete'", 30)
        if args.api_key:
            browser.js(f"(() => {{ const k = document.getElementById('api_key'); k.value = {json.dumps(args.api_key)};"
                       " k.dispatchEvent(new Event('change')); })()")
        # With a key, the line first says "(API key needed)" (loaded before the key was typed): wait for the refresh.
        browser.wait("document.getElementById('status').textContent === 'ready' && "
                     "!document.getElementById('model').textContent.includes('…')"
                     + (" && !document.getElementById('model').textContent.includes('API key needed')"
                        if args.api_key else ""), 30)
        status, model = browser.js("[document.getElementById('status').textContent, "
                                   "document.getElementById('model').textContent]")
        check(status == "ready", f"status badge: {status!r}")
        check(model.startswith("model: ") and "(" not in model, f"model line: {model!r}")

        # A streamed greedy answer, compared with the same request made without streaming.
        values = {"prompt": args.prompt, "max_tokens": str(args.max_tokens), "temperature": "0", "top_p": "1",
                  "top_k": "0", "num_beams": "1", "seed": "", "cot": args.cot, "stream": True}
        t0 = time.time()
        state, lengths = run_in_page(browser, values, args.timeout)
        took = time.time() - t0
        print(f"     streamed in {took:.2f} s, output lengths seen while streaming: {lengths[:12]}"
              f"{' …' if len(lengths) > 12 else ''} ({len(lengths)} distinct)")
        print(f"     output: {state['output']!r}")
        print(f"     stats:  {state['stats']!r}")
        check(state["error"] is None, f"no error shown (error box: {state['error']!r})")
        check(len(state["output"]) > 0, "the answer is shown")
        check(len(lengths) >= 4, "the answer grew in several steps (streamed, not all at once)")
        check("finish_reason" in state["stats"] and "first token" in state["stats"],
              "the stats line has time to first token and finish_reason")
        body = {"prompt": args.prompt, "max_tokens": args.max_tokens, "temperature": 0, "stream": False}
        if args.cot:
            body["cot"] = args.cot
        direct = api_completion(base, body, args.api_key)["choices"][0]["text"]
        check(direct == state["output"], "streamed text == the API's non-streamed text for the same request"
              + ("" if direct == state["output"] else f" (API: {direct!r})"))
        if args.screenshot:
            browser.screenshot(args.screenshot)
            print(f"     screenshot: {args.screenshot}")

        # The form's own limits stop a negative temperature before any request is made.
        started = browser.js(FILL.format(values=json.dumps(dict(values, temperature="-1"))))
        check(not started, "temperature -1 is refused by the form (no request sent)")

        # A value only the server can judge: its OpenAI error object is shown.
        state, _ = run_in_page(browser, dict(values, max_tokens="1000000000"), args.timeout)
        print(f"     error box: {state['error']!r}")
        check(state["error"] is not None and state["error"].startswith("HTTP 400"), "max_tokens 10^9 shows HTTP 400")
        check("max_tokens" in (state["error"] or ""), "the error names the parameter")
        check(state["output"] == "", "no output under an error")
        if args.error_screenshot:
            browser.screenshot(args.error_screenshot)
            print(f"     screenshot: {args.error_screenshot}")

        # Stop ends a long stream at once: clicked as soon as the first text arrives.
        stopped_at = {}

        def stop_on_first_text(state):
            if state["output"]:
                stopped_at["t"] = time.time()
                browser.js("document.getElementById('stop').click()")
                return True
            return False

        # The greedy chain-of-thought answer (~50 tokens) is still streaming when its first text arrives; a sampled
        # plain answer of the demo model ends at EOS after 2 tokens, before Stop can be clicked.
        state, _ = run_in_page(browser, dict(values, max_tokens="512"), args.timeout, stop_on_first_text)
        ended = time.time()
        print(f"     after Stop: output {state['output']!r}, stats {state['stats']!r}")
        check("t" in stopped_at and ended - stopped_at["t"] < 1.0, "Stop ends the run within 1 s")
        check("stopped by you" in state["stats"], "the stats say it was stopped (not finished on its own)")
        check(state["error"] is None, "Stop shows no error")

        check(not browser.exceptions, f"no JavaScript exceptions {browser.exceptions if browser.exceptions else ''}")
    finally:
        browser.close()

    print("page check:", "FAILED: " + "; ".join(failures) if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
