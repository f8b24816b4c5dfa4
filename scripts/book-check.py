#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the built book (book/build) as a reader gets it.

1. Every link and every resource of every page resolves: each relative href/src names a
   file of the build, and each #fragment an id of the page it points to.
2. Every page renders in headless Chromium, served over HTTP on localhost, with no console
   error, no uncaught exception, no failed request, and every image loaded.

Chromium is driven through its DevTools protocol over a pipe (--remote-debugging-pipe):
NUL-terminated JSON messages on file descriptors 3 (to Chromium) and 4 (from it), so the
standard library is enough. Exits 1 with one line per problem.
"""

import fcntl
import http.server
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

PAGE_TIMEOUT = 20.0  # seconds for one page to load
TABS = 3  # pages rendered at once
SETTLE = 0.2  # seconds with no DevTools event after the load event before a page counts as done


class Page(HTMLParser):
    """The ids of a page and the URLs it refers to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.refs = []  # (tag, attribute, url, line)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if value and (name == "src" or (name == "href" and tag in ("a", "link", "area"))):
                self.refs.append((tag, name, value, self.getpos()[0]))


def static_check(build):
    """Problems with the links and resources of the built pages."""
    pages = {}
    for f in sorted(build.rglob("*.html")):
        p = Page()
        p.feed(f.read_text(encoding="utf-8"))
        pages[f] = p
    problems = []
    checked = 0
    for f, page in pages.items():
        rel = f.relative_to(build)
        for tag, attr, url, line in page.refs:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                # No network here: an absolute URL is listed, not fetched. mailto: and
                # javascript: are not documents.
                if parts.scheme in ("http", "https"):
                    problems.append(f"{rel}:{line}: external {attr} {url} (the book must work offline)")
                continue
            checked += 1
            if parts.path:
                # 404.html is served at any depth with <base href="/">: resolve from the root.
                base = build if rel.name == "404.html" or parts.path.startswith("/") else f.parent
                target = (base / unquote(parts.path.lstrip("/"))).resolve()
                if target.is_dir():
                    target = target / "index.html"
            else:
                target = f.resolve()
            if not target.is_file() or build.resolve() not in target.parents:
                problems.append(f"{rel}:{line}: <{tag} {attr}=\"{url}\">: no such file in the build")
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html":
                ids = pages[target].ids if target in pages else set()
                if frag not in ids:
                    problems.append(f"{rel}:{line}: <{tag} {attr}=\"{url}\">: no id \"{frag}\" in {target.relative_to(build.resolve())}")
    return list(pages), checked, problems


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Browser:
    """Headless Chromium over the DevTools pipe."""

    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="book-check-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # Chromium's ends become its fds 3 and 4. Moved above 10 first, so that neither
        # dup2 below can overwrite the other's source; Python's own fds are close-on-exec.
        child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def fds():
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
             f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, close_fds=False)
        os.close(child_r)
        os.close(child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def receive(self, deadline):
        """The next message, or None at the deadline."""
        while b"\0" not in self.buf:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.from_child], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None, timeout=PAGE_TIMEOUT):
        want = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.receive(deadline)
            if msg is None:
                raise RuntimeError(f"no answer to {method} within {timeout} s")
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        os.close(self.from_child)
        shutil.rmtree(self.profile, ignore_errors=True)


IMAGES = """(() => Array.from(document.images)
  .filter(i => !(i.complete && i.naturalWidth > 0))
  .map(i => i.getAttribute('src')))()"""


def favicon_probe(ev, origin):
    """The browser's own request for /favicon.ico, made for a page that declares no icon
    (mdBook's toc.html, the table of contents for readers without JavaScript). Icons that
    pages declare are links, checked like any other."""
    p = ev.get("params", {})
    url = p.get("response", {}).get("url") or p.get("entry", {}).get("url")
    return url == origin + "favicon.ico"


def problems_in(rel, events, origin):
    """What the DevTools events of one page's load say is wrong with it."""
    problems = []
    for ev in events:
        m, p = ev.get("method"), ev.get("params", {})
        if favicon_probe(ev, origin):
            continue
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            problems.append(f"{rel}: uncaught exception: {text.splitlines()[0]}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            problems.append(f"{rel}: console.{p['type']}: {args}")
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            e = p["entry"]
            where = f" ({e['url']})" if e.get("url") else ""
            problems.append(f"{rel}: console error: {e['text']}{where}")
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            problems.append(f"{rel}: request failed: {p.get('errorText')} ({p.get('type')})")
        elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
            problems.append(f"{rel}: HTTP {p['response']['status']} for {p['response']['url']}")
    return problems


class Tab:
    """One page being checked in a tab: loading, then quiet for SETTLE, then its images."""

    def __init__(self, session):
        self.session = session
        self.rel = None

    def open(self, browser, origin, rel):
        self.rel = rel
        self.events = []
        self.loaded = False
        self.quiet_until = None
        self.images_call = None
        self.deadline = time.monotonic() + PAGE_TIMEOUT
        browser.send("Page.navigate", {"url": origin + rel}, self.session)

    def timer(self):
        """When this tab has something to do if no message comes."""
        if self.loaded and self.images_call is None:
            return min(self.deadline, self.quiet_until)
        return self.deadline


def render_check(build, pages, chromium):
    """Problems seen while Chromium renders each page, TABS pages at a time."""
    # Chromium first: it is started with a preexec_fn, which must not run beside threads.
    browser = Browser(chromium)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: Quiet(*a, directory=str(build), **k))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    problems = []
    todo = [f.relative_to(build).as_posix() for f in pages]
    try:
        tabs = {}
        for _ in range(min(TABS, len(todo))):
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                browser.call(f"{domain}.enable", session=s)
            tabs[s] = Tab(s)
        for tab in tabs.values():
            tab.open(browser, origin, todo.pop(0))
        busy = set(tabs)
        while busy:
            msg = browser.receive(min(tabs[s].timer() for s in busy))
            now = time.monotonic()
            if msg is not None:
                tab = tabs.get(msg.get("sessionId"))
                if tab is None or tab.session not in busy:
                    continue
                if "method" in msg:
                    tab.events.append(msg)
                    if msg["method"] == "Page.loadEventFired":
                        tab.loaded = True
                    if tab.loaded and tab.images_call is None:
                        tab.quiet_until = now + SETTLE
                elif msg.get("id") == tab.images_call:
                    problems += problems_in(tab.rel, tab.events, origin)
                    if "error" in msg:
                        problems.append(f"{tab.rel}: images not checked: {msg['error']}")
                    else:
                        for src in msg["result"]["result"].get("value", []):
                            problems.append(f"{tab.rel}: image not loaded: {src}")
                    if todo:
                        tab.open(browser, origin, todo.pop(0))
                    else:
                        busy.discard(tab.session)
                continue
            for s in list(busy):
                tab = tabs[s]
                if tab.images_call is not None:
                    if now >= tab.deadline:
                        raise RuntimeError(f"{tab.rel}: no answer from Chromium")
                elif now >= tab.deadline:
                    problems.append(f"{tab.rel}: did not finish loading within {PAGE_TIMEOUT} s")
                    problems += problems_in(tab.rel, tab.events, origin)
                    tab.images_call = -1
                    if todo:
                        tab.open(browser, origin, todo.pop(0))
                    else:
                        busy.discard(s)
                elif tab.loaded and now >= tab.quiet_until:
                    tab.images_call = browser.send(
                        "Runtime.evaluate", {"expression": IMAGES, "returnByValue": True}, s)
                    tab.deadline = now + PAGE_TIMEOUT
    finally:
        browser.close()
        server.shutdown()
    return problems


def main():
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "book/build").resolve()
    if not (build / "index.html").is_file():
        sys.exit(f"book-check: no built book in {build}")
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("book-check: chromium is missing (scripts/setup.sh installs it)")
    start = time.monotonic()
    pages, refs, problems = static_check(build)
    problems += render_check(build, pages, chromium)
    took = time.monotonic() - start
    problems = list(dict.fromkeys(problems))  # mdBook 0.5 puts each image in a page twice
    for p in problems:
        print(f"book-check: {p}", file=sys.stderr)
    if problems:
        print(f"book-check: {len(problems)} problems in {len(pages)} pages", file=sys.stderr)
        sys.exit(1)
    print(f"book-check: {len(pages)} pages, {refs} links and resources resolve; "
          f"all render in Chromium with no console error and every image loaded ({took:.1f} s)")


if __name__ == "__main__":
    main()
