"""`ssr serve` end to end in a real headless browser (Debian's chromium driven by Playwright)."""

import io
import json
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from util import smooth_image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def server(tiny_weights, tmp_path):
    from ssr.serve import make_server

    srv = make_server("127.0.0.1", 0, max_upload_mb=0.05, workdir=tmp_path / "jobs")
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _photo(path: Path, size=(40, 30)) -> Path:
    Image.fromarray(np.round(smooth_image(3, size[1], size[0]) * 255).astype(np.uint8)).save(path)
    return path


def _post(server: str, query: str, data: bytes) -> tuple[int, dict]:
    """POST an upload to the jobs API; (HTTP status, JSON reply), errors included."""
    request = urllib.request.Request(f"{server}/api/jobs?{query}", data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_api_refuses_bad_uploads_and_keeps_serving(server, tmp_path):
    def post(name: str, data: bytes):
        return _post(server, f"name={name}", data)

    assert post("notes.txt", b"hello") == (400, {"error": "notes.txt: unsupported file type (use .bmp, .jpeg, "
                                                          ".jpg, .png, .tif, .tiff, .webp)"})
    status, reply = post("fake.png", b"not a png at all")
    assert status == 400 and reply["error"].startswith("fake.png: not a valid image file")
    status, reply = post("big.png", b"\0" * 100_000)
    assert status == 413 and "file too large" in reply["error"]
    status, reply = post("ok.png", _photo(tmp_path / "ok.png").read_bytes())
    assert status == 200 and "id" in reply  # still serving


def test_api_runs_the_diffusion_refiner_at_4x_and_refuses_it_at_2x(server, tmp_path, monkeypatch):
    from util import write_tiny_weights

    monkeypatch.setenv("SSR_WEIGHTS", str(write_tiny_weights(tmp_path / "with_refiner", with_refiner=True)))
    data = _photo(tmp_path / "ok.png").read_bytes()

    def post(query: str):
        return _post(server, f"name=ok.png&{query}", data)

    assert post("scale=2&refine=diffusion") == (
        400, {"error": "no diffusion refiner (texture) weights for 2x in this weight set; pick 4x or refine none"})
    status, reply = post("refine=sharpen")
    assert status == 400 and "refine none or diffusion" in reply["error"]
    finished = {}
    for refine in ("none", "diffusion"):
        status, reply = post(f"scale=4&refine={refine}")
        assert status == 200
        for _ in range(600):
            with urllib.request.urlopen(f"{server}/api/jobs/{reply['id']}", timeout=30) as answer:
                job = json.loads(answer.read())
            if job["state"] in ("done", "failed"):
                break
            threading.Event().wait(0.1)
        assert job["state"] == "done", job
        name = next(n for n in job["files"].values() if n.endswith("_x4.png"))
        with urllib.request.urlopen(f"{server}/api/jobs/{reply['id']}/{name}", timeout=30) as answer:
            finished[refine] = np.asarray(Image.open(io.BytesIO(answer.read())), np.float32)
    # the tiny refiner's perturbed output layer changes the SVKR result: the option really reached the pipeline
    assert finished["none"].shape == finished["diffusion"].shape == (120, 160, 3)
    assert np.abs(finished["none"] - finished["diffusion"]).max() > 0


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium); .ci/run installs it")
def test_upload_run_compare_and_download_in_a_real_browser(server, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    photo = _photo(tmp_path / "holiday.png")
    (tmp_path / "notes.txt").write_text("not an image")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(server)
        # a non-image first: a clear message in the page, and the app keeps working
        page.set_input_files("#file", str(tmp_path / "notes.txt"))
        page.click("#start")
        page.wait_for_selector("#status.error", timeout=30_000)
        assert "unsupported file type" in page.inner_text("#status")
        page.set_input_files("#file", str(photo))
        page.fill("#strength", "0.5")
        page.click("#start")
        page.wait_for_selector("#download", state="visible", timeout=120_000)
        page.wait_for_function("document.getElementById('before').naturalWidth > 0")
        with page.expect_download() as info:
            page.click("#download")
        saved = tmp_path / "downloaded.png"
        info.value.save_as(saved)
        assert Image.open(saved).size == (160, 120)  # 4x of 40x30
        for image in ("before", "after", "blur", "depth"):
            assert page.evaluate(f"document.getElementById('{image}').naturalWidth") > 0
        page.screenshot(path=str(tmp_path / "serve.png"), full_page=True)
        browser.close()
    assert (tmp_path / "serve.png").stat().st_size > 10_000
