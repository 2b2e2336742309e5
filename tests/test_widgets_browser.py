"""DrawingPad in a real JupyterLab, drawn on with real mouse moves in headless Chromium.

The harness (a throwaway `jupyter lab` on 127.0.0.1, a notebook with a pad, drawing and
reading helpers) is also used by `bench/browser_digits.py`, which draws 0-9 against the real
model.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from digitrec.widgets import SIZE, example_strokes

VENV_BIN = Path(sys.executable).parent
SERVER_START_TIMEOUT = 60
NOTEBOOK = "pad.ipynb"
APPS = {"lab": "LabApp", "notebook": "JupyterNotebookApp"}
SETUP_CODE = "from digitrec.widgets import DrawingPad\n\npad = DrawingPad()\npad"


@dataclass
class JupyterLab:
    url: str
    root: Path
    process: subprocess.Popen
    log: Path
    app: str = "lab"

    def notebook_url(self, name: str) -> str:
        """JupyterLab opens documents under /lab/tree, Notebook 7 under /notebooks."""
        return (
            f"{self.url}/lab/tree/{name}" if self.app == "lab" else f"{self.url}/notebooks/{name}"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_notebook(path: Path, cells: Sequence[str]) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, path)


@contextlib.contextmanager
def jupyter_lab(root: Path, model_path: Path, app: str = "lab") -> Iterator[JupyterLab]:
    """`jupyter lab --no-browser` on a free loopback port, no token, settings kept in `root`.

    `app="notebook"` starts Notebook 7 instead. The server runs in its own process group so
    stopping it also stops its kernels; it is always stopped, even when the test fails.
    """
    port = free_port()
    state = root / ".jupyter-state"
    settings = state / "settings"
    # No news or update pop-ups over the notebook (and no requests to the internet).
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(os.environ)
    env.update(
        DIGITREC_MODEL=str(model_path),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        JUPYTER_CONFIG_DIR=str(state / "config"),
        IPYTHONDIR=str(state / "ipython"),
        PYTHONUNBUFFERED="1",
    )
    log = state / "server.log"
    command = [
        str(VENV_BIN / "jupyter"),
        app,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        # window.jupyterapp: the page can run commands and reach the kernel.
        f"--{APPS[app]}.expose_app_in_browser=True",
        f"--{APPS[app]}.user_settings_dir={settings}",
        f"--{APPS[app]}.workspaces_dir={state / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers often run as root
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = JupyterLab(f"http://127.0.0.1:{port}", root, process, log, app)
    try:
        _wait_for_server(server)
        yield server
    finally:
        _stop(process)


def _wait_for_server(server: JupyterLab) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter exited early:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"jupyter did not start in time:\n{server.log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (server and kernels), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    pgid = os.getpgid(process.pid)
    os.killpg(pgid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)  # a kernel that outlived its server


# -- driving the page ----------------------------------------------------------------------

KERNEL_READY_JS = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = widget && widget.sessionContext && widget.sessionContext.session
        && widget.sessionContext.session.kernel;
    return kernel && kernel.status === 'idle' && widget.content && widget.content.widgets
        && widget.content.widgets.length > 0;
}"""

EXECUTE_JS = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({code, silent: false, store_history: false});
    let out = '';
    let error = null;
    future.onIOPub = (msg) => {
        if (msg.header.msg_type === 'stream') out += msg.content.text;
        if (msg.header.msg_type === 'error') error = msg.content.ename + ': ' + msg.content.evalue;
    };
    await future.done;
    return {out, error};
}"""


def open_notebook(page, server: JupyterLab, name: str = NOTEBOOK, *, timeout: float = 90) -> None:
    """Open the notebook, wait for its kernel, run every cell, wait for the pad to appear."""
    page.goto(server.notebook_url(name))
    page.wait_for_function(KERNEL_READY_JS, timeout=timeout * 1000, polling=250)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator("canvas.digitrec-canvas").first.wait_for(state="visible", timeout=timeout * 1000)
    page.locator(".digitrec-status").first.wait_for(state="visible", timeout=timeout * 1000)


def kernel(page, code: str) -> str:
    """Run code in the notebook's own kernel from the page; return what it printed."""
    result = page.evaluate(EXECUTE_JS, code)
    if result["error"]:
        raise AssertionError(f"kernel error running {code!r}: {result['error']}")
    return result["out"]


def kernel_json(page, expression: str):
    return json.loads(kernel(page, f"import json as _j\nprint(_j.dumps({expression}))"))


def wait_until_idle(page, *, settle: float = 0.3, timeout: float = 30) -> None:
    """Wait for the kernel to drain every queued event, then let the canvas repaint."""
    kernel(page, "pass")  # queued behind every mouse message sent so far
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
        " === 'idle'",
        timeout=timeout * 1000,
    )
    page.wait_for_timeout(settle * 1000)


def draw(page, strokes: Sequence[Sequence[tuple[float, float]]], *, steps: int = 3) -> None:
    """Draw with real mouse events: press, move through every point, release."""
    canvas = page.locator("canvas.digitrec-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / SIZE
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=steps)
        page.mouse.up()


def browser_canvas(page) -> np.ndarray:
    """The pixels the learner sees in the page's canvas: (280, 280) uint8, red channel."""
    from PIL import Image

    url = page.locator("canvas.digitrec-canvas").first.evaluate("(c) => c.toDataURL('image/png')")
    data = base64.b64decode(url.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))[..., 0]


def kernel_canvas(page) -> np.ndarray:
    """`pad.image()` from the kernel: (280, 280) uint8, the ink the model reads."""
    from PIL import Image

    code = (
        "import base64 as _b, io as _io\nfrom PIL import Image as _I\n_buf = _io.BytesIO()\n"
        "_I.fromarray(pad.image()[..., 0]).save(_buf, format='PNG')\n"
        "print(_b.b64encode(_buf.getvalue()).decode())"
    )
    data = base64.b64decode(kernel(page, code).strip())
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def shown_digit(page) -> str | None:
    digit = page.locator(".digitrec-digit")
    return digit.first.inner_text().strip() if digit.count() else None


def ink_iou(a: np.ndarray, b: np.ndarray, level: int = 128) -> float:
    ink_a, ink_b = a >= level, b >= level
    union = (ink_a | ink_b).sum()
    return float((ink_a & ink_b).sum() / union) if union else 1.0


# -- the test ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["lab", "notebook"])
def server(request, tmp_path_factory, trained_model_path) -> Iterator[JupyterLab]:
    """JupyterLab 4, then Notebook 7 (skipped when the `notebook` package is not installed)."""
    if request.param == "notebook":
        pytest.importorskip("notebook", minversion="7", reason="Notebook 7 is not installed")
    root = tmp_path_factory.mktemp(request.param)
    write_notebook(root / NOTEBOOK, [SETUP_CODE])
    with jupyter_lab(root, trained_model_path, app=request.param) as running:
        yield running


@pytest.mark.browser
def test_draw_predict_and_clear(server, browser, artifacts_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    shot = artifacts_dir / f"widget_{server.app}"
    try:
        open_notebook(page, server)
        assert "The canvas is empty" in page.locator(".digitrec-status").first.inner_text()
        assert kernel_json(page, "pad.prediction is None") is True

        draw(page, example_strokes(7))
        wait_until_idle(page)
        strokes = kernel_json(page, "pad.strokes")
        assert len(strokes) == 1 and len(strokes[0]) >= 3
        seen_in_page = browser_canvas(page)
        read_in_kernel = kernel_canvas(page)
        # What the learner sees and what the model reads are the same drawing.
        assert seen_in_page.max() == 255 and read_in_kernel.max() == 255
        assert ink_iou(seen_in_page, read_in_kernel) > 0.9

        # A page reload keeps the kernel's pad; the browser canvas is repainted from it.
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.reload()
        page.wait_for_function(KERNEL_READY_JS, timeout=60_000, polling=250)
        page.locator("canvas.digitrec-canvas").first.wait_for(state="visible", timeout=30_000)
        wait_until_idle(page)
        assert ink_iou(browser_canvas(page), read_in_kernel) > 0.9

        page.locator(".digitrec-predict").first.click()
        page.locator(".digitrec-digit").first.wait_for(state="visible", timeout=20_000)
        wait_until_idle(page)
        in_kernel = kernel_json(
            page, "[pad.prediction.digit, pad.prediction.confidence, pad.message]"
        )
        assert shown_digit(page) == "7"
        assert in_kernel[0] == 7
        assert in_kernel[2] in page.locator(".digitrec-status").first.inner_text()
        page.screenshot(path=f"{shot}_predict_7.png", full_page=True)

        page.locator(".digitrec-clear").first.click()
        page.locator(".digitrec-digit").first.wait_for(state="detached", timeout=20_000)
        wait_until_idle(page)
        assert "The canvas is empty" in page.locator(".digitrec-status").first.inner_text()
        assert kernel_json(page, "[pad.prediction is None, pad.strokes]") == [True, []]
        assert browser_canvas(page).max() == 0
        assert kernel_canvas(page).max() == 0
        page.screenshot(path=f"{shot}_cleared.png", full_page=True)
    except Exception:
        page.screenshot(path=f"{shot}_failure.png", full_page=True)
        raise
    finally:
        page.close()
