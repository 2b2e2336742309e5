"""Draw the digits 0-9 with real mouse moves on DrawingPad in JupyterLab, and count the reads.

Starts a throwaway `jupyter lab` (or Notebook 7 with `--app notebook`) on 127.0.0.1, opens a
notebook with a pad in headless Chromium, and for each digit: draws the `example_strokes`
polylines with page.mouse, presses Predict, reads the digit shown in the page and
`pad.prediction` in the kernel, compares the browser's canvas with the kernel's raster, takes
a screenshot, and presses Clear.

Run: `python bench/browser_digits.py [--model MODEL] [--app lab|notebook]`.
Screenshots go to artifacts/, a JSON summary to bench/results/.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from command_line import ArgumentParser, check_output, run

from digitrec import jupyter_browser as harness
from digitrec import settings
from digitrec.strokes import example_strokes

ROOT = Path(__file__).resolve().parents[1]

# Where and how big each digit is drawn: a plain centred one, and a small one in a corner
# (the case naive resizing gets wrong and `to_mnist` is built for).
VARIANTS = {
    "centred": {"height": 200, "top": 40},
    "small-corner": {"height": 100, "top": 15, "left": 20},
}


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        type=Path,
        default=settings.default_model_path(),
        help="default: the model the app reads (models/cnn.keras, else the shipped one)",
    )
    parser.add_argument("--app", choices=("lab", "notebook"), default="lab")
    parser.add_argument("--artifacts", type=Path, default=ROOT / "artifacts")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args(argv)
    check_output(parser, args.artifacts, folder=True)
    check_output(parser, args.results, folder=True)
    if not args.model.is_file():
        print(f"error: no model at {args.model}; train one with: make train", file=sys.stderr)
        return 2
    args.artifacts.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    rows = []
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="digitrec-bench-") as tmp:
            root = Path(tmp)
            harness.write_notebook(root / harness.NOTEBOOK, [harness.SETUP_CODE])
            with (
                harness.jupyter_lab(root, args.model.resolve(), app=args.app) as server,
                sync_playwright() as playwright,
            ):
                browser = harness.launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                try:
                    harness.open_notebook(page, server)
                    ready = time.perf_counter() - started
                    for variant in args.variants:
                        for digit in range(10):
                            rows.append(read_one(page, digit, variant, args))
                            print(json.dumps(rows[-1]))
                    page.locator(".digitrec-clear").first.click()
                finally:
                    browser.close()
    except FileNotFoundError as error:  # no Chromium, or no jupyter in this environment
        print(f"error: {error}", file=sys.stderr)
        return 2
    correct = {
        variant: sum(row["kernel"] == row["digit"] for row in rows if row["variant"] == variant)
        for variant in args.variants
    }
    agree = all(row["kernel"] == row["page"] for row in rows)
    summary = {
        "app": args.app,
        "model": str(args.model),
        "correct_of_10": correct,
        "page_agrees_with_kernel": agree,
        "min_canvas_iou": min(row["canvas_iou"] for row in rows),
        "seconds_to_ready": round(ready, 1),
        "seconds_total": round(time.perf_counter() - started, 1),
        "rows": rows,
    }
    out = args.results / f"browser_digits_{args.app}.json"
    out.write_text(json.dumps(summary, indent=2))
    for variant, n in correct.items():
        print(f"{variant}: the model read {n} of 10 correctly ({args.app})")
    print(
        f"page == kernel: {agree}; min canvas IoU {summary['min_canvas_iou']:.3f}; "
        f"{summary['seconds_total']} s; {out}"
    )
    return 0


def read_one(page, digit: int, variant: str, args) -> dict:
    page.locator(".digitrec-clear").first.click()
    harness.wait_until_idle(page, settle=0.1)
    harness.draw(page, example_strokes(digit, **VARIANTS[variant]))
    harness.wait_until_idle(page)
    iou = harness.ink_iou(harness.browser_canvas(page), harness.kernel_canvas(page))
    page.locator(".digitrec-predict").first.click()
    page.locator(".digitrec-digit").first.wait_for(state="visible", timeout=20_000)
    harness.wait_until_idle(page)
    kernel_digit, confidence = harness.kernel_json(
        page, "[pad.prediction.digit, pad.prediction.confidence]"
    )
    shown = harness.shown_digit(page)
    shot = args.artifacts / f"browser_digit_{args.app}_{variant}_{digit}.png"
    page.locator(".digitrec-pad").first.screenshot(path=str(shot))
    return {
        "variant": variant,
        "digit": digit,
        "page": int(shown) if shown and shown.isdigit() else shown,
        "kernel": kernel_digit,
        "confidence": round(confidence, 4),
        "canvas_iou": round(iou, 3),
        "screenshot": str(shot.relative_to(ROOT)) if shot.is_relative_to(ROOT) else str(shot),
    }


if __name__ == "__main__":
    run(main)
