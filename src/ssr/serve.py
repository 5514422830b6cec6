"""`ssr serve`: a local web page for photographers (standard library HTTP server, no extra packages).

Drop photos, pick scale / strength / rounds, watch progress, compare before (bicubic) and after with a
slider, look at the blur and depth maps, download the result (written by the same code as
`ssr upscale`, so ICC profile and EXIF are kept). Bound to 127.0.0.1 by default; one job runs at a
time (the CPU is the limit), others wait in a queue.

API (what the page uses):
  POST /api/jobs?name=FILE&scale=4&strength=1&rounds=1&refine=none   body: the file's bytes -> {"id"} | {"error"}
  GET  /api/jobs/ID          -> {"state": queued|running|done|error, "progress": 0..1, "stage", "error", "files"}
  GET  /api/jobs/ID/FILE     -> result / before / blur / depth pictures
A bad upload (not an image, unsupported type, too large) is a 4xx with a one-line "error"; the server
keeps serving.
"""

from __future__ import annotations

import json
import queue
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from ssr.errors import SsrError
from ssr.io import FORMATS, read_image
from ssr.options import REFINERS
from ssr.paths import PACKAGE_DIR
from ssr.progress import add_listener, remove_listener
from ssr.weights import has_role, resolve

DEFAULT_MAX_UPLOAD_MB = 40.0


@dataclass
class WebJob:
    id: str
    folder: Path
    source: Path
    scale: int
    strength: float
    rounds: int
    refine: str = "none"  # none | diffusion (the diffusion refiner, x4)
    state: str = "queued"
    progress: float = 0.0
    stage: str = "waiting"
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)


class Worker(threading.Thread):
    """Runs queued jobs one at a time; methods are cached per (scale, strength, rounds, refine)."""

    def __init__(self, weights: str | None, threads: int | None) -> None:
        super().__init__(daemon=True)
        self.jobs: queue.Queue[WebJob] = queue.Queue()
        self.weights, self.threads = weights, threads
        self.methods: dict = {}

    def _method(self, job: WebJob):
        from ssr.methods import make_method

        key = (job.scale, job.strength, job.rounds, job.refine)
        if key not in self.methods:
            self.methods.clear()
            self.methods[key] = make_method("ssr", scale=job.scale, strength=job.strength, rounds=job.rounds,
                                            refine=job.refine, weights=self.weights)
        return self.methods[key]

    def run(self) -> None:
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        while True:
            job = self.jobs.get()
            self._run(job)

    def _run(self, job: WebJob) -> None:
        from ssr.methods import make_method
        from ssr.upscale import Job, OutputOptions, upscale_file

        def listen(done: int, total: int, stage: str) -> None:
            job.progress, job.stage = (done / total if total else 0.0), stage

        job.state, job.stage = "running", "loading the model"
        add_listener(listen)
        try:
            method = self._method(job)
            target = job.folder / f"{job.source.stem}_x{job.scale}{job.source.suffix.lower()}"
            if target.suffix not in (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"):
                target = target.with_suffix(".png")
            options = OutputOptions(save_blur=True, save_depth=True, overwrite=True)
            upscale_file(Job(job.source, target), method, job.scale, options, {job.source})
            before = job.folder / "before.png"
            upscale_file(Job(job.source, before), make_method("bicubic"), job.scale, OutputOptions(overwrite=True),
                         {job.source})
            job.files = {"result": target.name, "before": before.name, "blur": f"{target.stem}_blur.png",
                         "depth": f"{target.stem}_depth.png"}
            job.state, job.progress, job.stage = "done", 1.0, "done"
        except SsrError as exc:
            job.state, job.error = "error", str(exc)
        except Exception as exc:  # keep serving; say what happened in one line
            job.state, job.error = "error", f"internal error: {type(exc).__name__}: {exc}"
        finally:
            remove_listener(listen)


class App:
    def __init__(self, workdir: Path, max_upload_mb: float, weights: str | None, threads: int | None) -> None:
        self.workdir, self.max_bytes = workdir, int(max_upload_mb * 2**20)
        self.jobs: dict[str, WebJob] = {}
        self.worker = Worker(weights, threads)
        self.worker.start()
        self.page = (PACKAGE_DIR / "assets" / "web" / "index.html").read_bytes()

    def submit(self, name: str, data: bytes, query: dict) -> WebJob:
        """Validate an upload before it queues; SsrError/ValueError carry the message for the page."""
        name = Path(name or "upload.png").name
        if Path(name).suffix.lower() not in FORMATS:
            raise ValueError(f"{name}: unsupported file type (use {', '.join(sorted(FORMATS))})")
        scale = int(query.get("scale", ["4"])[0])
        strength = float(query.get("strength", ["1"])[0])
        rounds = int(query.get("rounds", ["1"])[0])
        refine = query.get("refine", ["none"])[0]
        if scale not in (2, 4) or not 0 <= strength <= 1 or rounds not in (1, 3) or refine not in REFINERS:
            raise ValueError(f"scale must be 2 or 4, strength in 0..1, rounds 1 or 3, refine {' or '.join(REFINERS)}")
        if refine == "diffusion" and not has_role("refiner", resolve(self.worker.weights), scale):
            raise ValueError(f"no diffusion refiner (texture) weights for {scale}x in this weight set; "
                             "pick 4x or refine none")
        job_id = uuid.uuid4().hex[:12]
        folder = self.workdir / job_id
        folder.mkdir()
        source = folder / name
        source.write_bytes(data)
        try:
            read_image(source)  # a bad file is refused now, with the reader's one-line reason
        except SsrError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise ValueError(str(exc).replace(str(source), name)) from None
        job = WebJob(job_id, folder, source, scale, strength, rounds, refine)
        self.jobs[job_id] = job
        self.worker.jobs.put(job)
        return job


def make_handler(app: App):
    class Handler(BaseHTTPRequestHandler):
        server_version = "ssr"

        def log_message(self, format: str, *args) -> None:  # quiet: the terminal shows ssr's own lines
            pass

        def _json(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = urlparse(self.path).path
            if path in ("/", "/index.html"):
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(app.page)))
                self.end_headers()
                self.wfile.write(app.page)
                return
            if path == "/api/config":
                self._json(HTTPStatus.OK, {"max_upload_mb": app.max_bytes / 2**20})
                return
            parts = path.strip("/").split("/")
            if len(parts) >= 3 and parts[:2] == ["api", "jobs"] and parts[2] in app.jobs:
                job = app.jobs[parts[2]]
                if len(parts) == 3:
                    self._json(HTTPStatus.OK, {"state": job.state, "progress": round(job.progress, 3),
                                               "stage": job.stage, "error": job.error, "files": job.files})
                    return
                name = parts[3] if len(parts) == 4 else ""
                if name in job.files.values():
                    data = (job.folder / name).read_bytes()
                    self.send_response(HTTPStatus.OK)
                    kind = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                            ".webp": "image/webp", ".tif": "image/tiff", ".tiff": "image/tiff"}
                    self.send_header("Content-Type", kind.get(Path(name).suffix.lower(), "application/octet-stream"))
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if url.path != "/api/jobs":
                self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > app.max_bytes:
                remaining = length  # drain (and drop) the body so the client gets the answer, never keep it
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           {"error": f"file too large ({length / 2**20:.1f} MB; the limit is "
                                     f"{app.max_bytes / 2**20:.0f} MB, see ssr serve --max-upload-mb)"})
                return
            if length == 0:
                self._json(HTTPStatus.BAD_REQUEST, {"error": "empty upload"})
                return
            data = self.rfile.read(length)
            query = parse_qs(url.query)
            try:
                job = app.submit(query.get("name", [""])[0], data, query)
            except (ValueError, SsrError) as exc:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
            self._json(HTTPStatus.OK, {"id": job.id})

    return Handler


def make_server(host: str = "127.0.0.1", port: int = 7860, *, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
                weights: str | None = None, threads: int | None = None,
                workdir: Path | None = None) -> ThreadingHTTPServer:
    """A ready server (call serve_forever); port 0 picks a free port (server.server_address)."""
    workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="ssr-serve-"))
    workdir.mkdir(parents=True, exist_ok=True)
    app = App(workdir, max_upload_mb, weights, threads)
    server = ThreadingHTTPServer((host, port), make_handler(app))
    server.app = app  # type: ignore[attr-defined]
    return server
