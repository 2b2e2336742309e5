"""A folder of pictures, each labelled, read through the real app, as a user's upload would be.

The folder holds `cases.json`, a list of {"file": path in the folder, "kind": "digit" |
"number" | "letter" | "doodle", "expected": the digit or number as a string, or null for a
letter or a doodle}, and the pictures (PNG or JPEG). Each picture goes to `POST /api/predict`
(the one-digit pad) and `POST /api/number` (the number pad) of `app.create_app()` through
Flask's test client as the page sends it: as it is, or, when it has more pixels or bytes than
the server takes, scaled down to fit and encoded again (`as_the_page_sends`, after the page's
`uploadUrl`). Scored: digits and numbers read right; numbers named on the one-digit pad
(refused as one digit, with `"number"` the number expected: as if written there); letters and
doodles refused on the one-digit pad (and named no number there), and read as no digit at all
on the number pad. Pictures drawn by someone who never saw the code make a held-out test of
the reading rules.

Run: `python bench/read_pictures.py FOLDER [--model models/cnn.keras] [--show]`.
"""

from __future__ import annotations

import base64
import io
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

from command_line import ArgumentParser, run
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `app` lives at the project root

from app import create_app  # noqa: E402

KINDS = ("digit", "number", "letter", "doodle")
JSON_OVERHEAD = 64  # bytes of the request body besides the data URL, generously


def as_the_page_sends(data: bytes, jpeg: bool, max_pixels: int, max_body: int) -> bytes:
    """The picture's bytes as the page uploads them: unchanged when the server takes them,
    else scaled to fit its pixel limit, encoded again (JPEG at quality 92, as the page's
    `canvas.toDataURL(type, 0.92)`), and halved again until the body fits."""
    base64_size = 4 * math.ceil(len(data) / 3) + len("data:image/jpeg;base64,")
    try:
        with Image.open(io.BytesIO(data)) as image:
            pixels = image.width * image.height
            if base64_size + JSON_OVERHEAD <= max_body and pixels <= max_pixels:
                return data
            image.load()
            # upright first, as the browser's createImageBitmap and the server read it
            picture = ImageOps.exif_transpose(image).convert("RGB" if jpeg else "RGBA")
    except (OSError, Image.DecompressionBombError):  # the server says what is wrong with it
        return data
    scale = min(1.0, math.sqrt(max_pixels / pixels))
    while True:
        size = (max(1, int(picture.width * scale)), max(1, int(picture.height * scale)))
        out = io.BytesIO()
        picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0).save(
            out, "JPEG" if jpeg else "PNG", **({"quality": 92} if jpeg else {})
        )
        if 4 * math.ceil(out.tell() / 3) + JSON_OVERHEAD + 30 <= max_body or min(size) < 28:
            return out.getvalue()
        scale /= 2


def read_folder(folder: Path, model: Path | None = None) -> tuple[dict, list[str]]:
    """{score name: [right, of]} for the folder's cases, and one line per miss."""
    cases = json.loads((folder / "cases.json").read_text())
    if not isinstance(cases, list) or not cases:
        raise ValueError('cases.json holds no cases: a list of {"file", "kind", "expected"}')
    for number, case in enumerate(cases):
        if not isinstance(case, dict) or not {"file", "kind"} <= case.keys():
            raise ValueError(f'case {number} of cases.json lacks "file" or "kind": {case!r}')
        expected = case.get("expected")
        if not isinstance(case["file"], str) or not isinstance(case["kind"], str):
            raise ValueError(f'case {number} of cases.json: "file" and "kind" are text: {case!r}')
        if case["kind"] not in KINDS:
            raise ValueError(f"{case['file']}: kind {case['kind']!r} is none of {', '.join(KINDS)}")
        wanted = case["kind"] in ("digit", "number")
        if wanted and not (isinstance(expected, str) and expected.isdigit()):
            raise ValueError(
                f'case {number} of cases.json: "expected" is the {case["kind"]} as text of '
                f'digits, such as "7" or "2048": {case!r}'
            )
        if not wanted and expected is not None:
            raise ValueError(
                f"case {number} of cases.json: a {case['kind']} expects null: {case!r}"
            )
    config = {"TESTING": True} | ({"MODEL_PATH": str(model)} if model else {})
    app = create_app(config)
    client = app.test_client()
    limits = app.config["MAX_IMAGE_PIXELS"], app.config["MAX_CONTENT_LENGTH"]
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for case in cases:
        kind, expected, name = case["kind"], case.get("expected"), case["file"]
        jpeg = name.lower().endswith((".jpg", ".jpeg"))
        sent = as_the_page_sends((folder / name).read_bytes(), jpeg, *limits)
        kind_of_file = "jpeg" if jpeg else "png"
        data = base64.b64encode(sent).decode()
        body = {"image": f"data:image/{kind_of_file};base64,{data}"}
        answers = [client.post(url, json=body) for url in ("/api/predict", "/api/number")]
        statuses = [answer.status_code for answer in answers]
        if any(status >= 500 for status in statuses):  # no model, say: no figure means anything
            raise ValueError(f"the app cannot read: {answers[0].get_json().get('error')}")
        scores["pictures the app took"][1] += 1
        if any(status not in (200, 422) for status in statuses):  # too large, undecodable
            misses.append(f"not taken: {name} ({statuses}: {answers[1].get_json().get('error')})")
            continue
        scores["pictures the app took"][0] += 1
        # 422: taken, but nothing read (an empty drawing, more marks than a number has)
        one, number = (answer.get_json() for answer in answers)
        digit = None if statuses[0] == 422 or one["not_a_digit"] else str(one["digit"])
        text = number["text"] if statuses[1] == 200 else ""
        why = f" (number pad: {number['error']})" if statuses[1] == 422 else ""
        if kind == "digit":
            results = {"digits read right": digit == expected}
        elif kind == "number":
            results = {
                "numbers read right": text == expected,
                "numbers named on the one-digit pad": one.get("number") == expected,
            }
        else:
            named = statuses[0] == 200 and one["number"] is not None
            results = {
                f"{kind}s refused (one-digit pad)": digit is None and not named,
                f"{kind}s giving no digit (number pad)": not any(c.isdigit() for c in text),
            }
        for score, right in results.items():
            scores[score][0] += int(right)
            scores[score][1] += 1
            if not right:
                named = one.get("number") if statuses[0] == 200 else None
                also = f" (named {named})" if named is not None else ""
                misses.append(
                    f"{score}: {name} expected {expected}, read {digit}{also} / {text!r}{why}"
                )
    return dict(scores), misses


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="holds cases.json and the pictures")
    parser.add_argument("--model", type=Path, default=None, help="default: the app's default")
    parser.add_argument("--show", action="store_true", help="list every picture misread")
    args = parser.parse_args()
    if not (args.folder / "cases.json").is_file():
        parser.error(f"no cases.json in {args.folder}")
    try:
        scores, misses = read_folder(args.folder, args.model)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SystemExit(f"read_pictures: cannot read {args.folder}: {error}") from None
    if args.show:
        print("\n".join(misses))
    for score, (right, of) in scores.items():
        print(f"{score:42} {right:>4} / {of}")


if __name__ == "__main__":
    run(main)
