"""Drive the drawing pad in a real JupyterLab (or Notebook 7) in headless Chromium.

Shared by the browser test (`tests/test_widgets_browser.py`) and the benchmark that draws the
digits 0-9 (`bench/browser_digits.py`): start a throwaway `jupyter lab` on 127.0.0.1, open a
notebook with a pad, draw on its canvas with real mouse moves, and read back both what the
page shows and what the kernel holds. Playwright (a development dependency) drives the page:
the functions here take its `page` and never import it themselves.
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
from typing import TYPE_CHECKING, Any

import nbformat
import numpy as np
from PIL import Image

from digitrec.constants import CANVAS_SIZE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

# Debian's Chromium, or the binary DIGITREC_CHROMIUM names; the flags let it run headless in
# a container with no GPU, no sandbox and no network chatter.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_executable() -> str:
    """The Chromium to drive: the binary DIGITREC_CHROMIUM names, else `CHROMIUM`."""
    return os.environ.get("DIGITREC_CHROMIUM", CHROMIUM)


def launch_chromium(playwright: Playwright) -> Browser:
    """A headless Chromium; FileNotFoundError, saying how to get one, when there is none."""
    executable = chromium_executable()
    if not Path(executable).is_file():
        raise FileNotFoundError(
            f"Chromium not found at {executable}: apt-get install -y chromium, "
            "or set DIGITREC_CHROMIUM to a Chromium binary"
        )
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


VENV_BIN = Path(sys.executable).parent
SERVER_START_TIMEOUT = 60
NOTEBOOK = "pad.ipynb"
APPS = {"lab": "LabApp", "notebook": "JupyterNotebookApp"}
SETUP_CODE = "from digitrec.widgets import DrawingPad\n\npad = DrawingPad()\npad"
# A notebook with a pad in number mode (a canvas three times as wide).
NUMBER_NOTEBOOK = "number_pad.ipynb"
NUMBER_SETUP_CODE = "from digitrec.widgets import DrawingPad\n\npad = DrawingPad(number=True)\npad"


@dataclass
class JupyterLab:
    """A running server: its address, the folder it serves, its process and its log."""

    url: str
    root: Path
    process: subprocess.Popen
    log: Path
    app: str = "lab"

    def notebook_url(self, name: str) -> str:
        """JupyterLab opens documents under /lab/tree, Notebook 7 under /notebooks.

        JupyterLab would also reopen every notebook an earlier page had open (its saved
        workspace), so two pads would be on the page: `?reset` opens this one alone.
        """
        if self.app == "lab":
            return f"{self.url}/lab/tree/{name}?reset"
        return f"{self.url}/notebooks/{name}"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_notebook(path: Path, cells: Sequence[str]) -> None:
    """A notebook of code cells, with a Python 3 kernel."""
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


def open_notebook(
    page: Page, server: JupyterLab, name: str = NOTEBOOK, *, timeout: float = 90
) -> None:
    """Open the notebook, wait for its kernel, run every cell, wait for the pad to appear."""
    page.goto(server.notebook_url(name))
    page.wait_for_function(KERNEL_READY_JS, timeout=timeout * 1000, polling=250)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator("canvas.digitrec-canvas").first.wait_for(state="visible", timeout=timeout * 1000)
    page.locator(".digitrec-status").first.wait_for(state="visible", timeout=timeout * 1000)


def kernel(page: Page, code: str) -> str:
    """Run code in the notebook's own kernel from the page; return what it printed."""
    result = page.evaluate(EXECUTE_JS, code)
    if result["error"]:
        raise AssertionError(f"kernel error running {code!r}: {result['error']}")
    return result["out"]


def kernel_json(page: Page, expression: str) -> Any:
    """Evaluate `expression` in the kernel and return it, through JSON."""
    return json.loads(kernel(page, f"import json as _j\nprint(_j.dumps({expression}))"))


def wait_until_idle(page: Page, *, settle: float = 0.3, timeout: float = 30) -> None:
    """Wait for the kernel to drain every queued event, then let the canvas repaint."""
    kernel(page, "pass")  # queued behind every mouse message sent so far
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
        " === 'idle'",
        timeout=timeout * 1000,
    )
    page.wait_for_timeout(settle * 1000)


def draw(page: Page, strokes: Sequence[Sequence[tuple[float, float]]], *, steps: int = 3) -> None:
    """Draw with real mouse events: press, move through every point, release.

    Points are in the canvas's own pixels, whatever size the page shows it at.
    """
    canvas = page.locator("canvas.digitrec-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / (canvas.evaluate("(c) => c.width") or CANVAS_SIZE)
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=steps)
        page.mouse.up()


def browser_canvas(page: Page, *, rgb: bool = False) -> np.ndarray:
    """The pixels the learner sees in the page's canvas: (height, width) uint8, red channel,
    or with `rgb` all three, (height, width, 3), to see coloured marks over the ink."""
    url = page.locator("canvas.digitrec-canvas").first.evaluate("(c) => c.toDataURL('image/png')")
    data = base64.b64decode(url.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("RGB"))
    return pixels if rgb else pixels[..., 0]


def kernel_canvas(page: Page) -> np.ndarray:
    """`pad.image()` from the kernel: (height, width) uint8, the ink the model reads."""
    code = (
        "import base64 as _b, io as _io\nfrom PIL import Image as _I\n_buf = _io.BytesIO()\n"
        "_I.fromarray(pad.image()[..., 0]).save(_buf, format='PNG')\n"
        "print(_b.b64encode(_buf.getvalue()).decode())"
    )
    data = base64.b64decode(kernel(page, code).strip())
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def shown_digit(page: Page) -> str | None:
    """The digit the page shows in large type, None while it shows none."""
    digit = page.locator(".digitrec-digit")
    return digit.first.inner_text().strip() if digit.count() else None


def shown_number(page: Page) -> str | None:
    """The number a pad in number mode shows in large type, None while it shows none."""
    number = page.locator(".digitrec-number")
    return number.first.inner_text().strip() if number.count() else None


def ink_iou(a: np.ndarray, b: np.ndarray, level: int = 128) -> float:
    """Intersection over union of two images' ink (pixels at `level` or above); 1 if none."""
    ink_a, ink_b = a >= level, b >= level
    union = (ink_a | ink_b).sum()
    return float((ink_a & ink_b).sum() / union) if union else 1.0
