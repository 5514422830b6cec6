"""The screenshot of `ssr serve` in docs/serve.png: a real photo through the page in headless chromium.

    .venv/bin/python scripts/serve_screenshot.py PHOTO [docs/serve.png]
"""

import shutil
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from ssr.serve import make_server


def main(photo: str, out: str = "docs/serve.png") -> None:
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1150, "height": 1100})
        page.goto(url)
        page.set_input_files("#file", photo)
        page.select_option("#refine", "diffusion")  # the shipped texture refiner, so the picture shows it on
        page.click("#start")
        page.wait_for_selector("#download", state="visible", timeout=600_000)
        page.wait_for_function("document.getElementById('depth').naturalWidth > 0")
        page.fill("#slider", "55")
        page.dispatch_event("#slider", "input")
        page.screenshot(path=out, full_page=True)
        browser.close()
    server.shutdown()
    print(f"wrote {Path(out)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
