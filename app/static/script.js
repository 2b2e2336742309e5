// digitrec: draw with a round white pen on black (mouse, finger, pen or keyboard), or upload a
// picture; send it to /api/predict (one digit) or, in number mode, to /api/number (a wider
// box, several digits) with the chosen model's name, and show what came back: in number mode
// also each digit's box, drawn over the pad (never on the drawing that is sent). No inline
// scripts, no external assets: the page works offline under a strict
// Content-Security-Policy. Every number it needs (canvas sizes, the 28x28 field, the request
// limits) comes from the server, in the drawing pad's attributes, and the words about each
// model in its option's data-info.
"use strict";

(function () {
  const byId = (id) => document.getElementById(id);
  const pad = byId("pad");
  const ctx = pad.getContext("2d");
  const cursor = byId("cursor");
  const penState = byId("pen-state");
  const predictButton = byId("predict");
  const undoButton = byId("undo");
  const clearButton = byId("clear");
  const liveBox = byId("live");
  const penWidthInput = byId("pen-width");
  const penWidthValue = byId("pen-width-value");
  const uploadInput = byId("upload");
  const result = byId("result");
  const answer = result.querySelector(".answer");
  const digitOut = byId("digit");
  const statusOut = byId("status"); // the one live region: one sentence per answer
  const adviceOut = byId("advice");
  const bars = Array.from(document.querySelectorAll("#bars li"));
  const preview = byId("preview");
  const previewCtx = preview.getContext("2d");
  const downloadButton = byId("download");
  const modelInfo = byId("model-info");
  const modelSelect = byId("model");
  const layout = byId("layout");
  const numberBox = byId("mode-number");
  const modeInputs = Array.from(document.querySelectorAll("input[name='mode']"));
  const boxesOut = byId("boxes"); // the digits' boxes, over the pad
  const numberList = byId("number-digits");
  const barsList = byId("bars");
  const previewFigure = preview.closest("figure");

  function setting(name) {
    const value = Number(pad.dataset[name]);
    if (!(value > 0)) throw new Error("the page lacks its data-" + name + " setting");
    return value;
  }
  const DIGIT_WIDTH = pad.width; // canvas pixels, from the server: the box for one digit
  const NUMBER_WIDTH = setting("numberWidth"); // ... and the wider one for a number
  const HEIGHT = pad.height; // the same in both modes
  const MNIST = setting("mnist"); // the model's input is MNIST x MNIST
  const MAX_BODY = setting("maxBody"); // the server refuses larger request bodies
  const MAX_PIXELS = setting("maxPixels"); // ... and images with more pixels
  const STEP = HEIGHT / MNIST; // one arrow key press moves the keyboard pen one model pixel
  const FINE_STEP = STEP / 5; // with Shift
  const LIVE_EVERY_MS = 300; // at most one live request this often while drawing
  const TIMEOUT_MS = 10000;
  const NOT_A_DIGIT = "That is not a digit.";
  const CROSS = "\u2715"; // shown in place of the digit when the drawing is none
  const MOVES = {
    ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1],
    Home: [-1, -1], PageUp: [1, -1], End: [-1, 1], PageDown: [1, 1],
  };

  // What is on the pad, oldest first: strokes {width, points} or one uploaded picture
  // {bitmap, url, name}. Undo removes the last; the canvas is repainted from this list.
  let items = [];
  let width = DIGIT_WIDTH; // the pad's width now: DIGIT_WIDTH, or NUMBER_WIDTH in number mode
  let stroke = null; // the stroke being drawn now, by the pointer or the keyboard pen
  let pointerId = null;
  const keyPen = { x: width / 2, y: HEIGHT / 2, down: false };
  let keyboardMode = false; // show the keyboard pen's cursor only after keys are used
  let requestSeq = 0; // each request's number; a Clear or newer request makes older ones stale
  let inFlight = 0;
  let lastAsked = { seq: 0 }; // the newest request: its number, what it asked, if announced
  let liveTimer = null;
  let lastAnswer = null;

  // --- painting ---------------------------------------------------------------------------

  function penWidth() {
    return Number(penWidthInput.value);
  }

  function paintDot(p, width) {
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc(p.x, p.y, width / 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  function paintLine(a, b, width) {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }

  function paintItem(item) {
    if (item.bitmap) {
      const scale = Math.min(width / item.bitmap.width, HEIGHT / item.bitmap.height);
      const w = item.bitmap.width * scale;
      const h = item.bitmap.height * scale;
      ctx.drawImage(item.bitmap, (width - w) / 2, (HEIGHT - h) / 2, w, h);
      return;
    }
    paintDot(item.points[0], item.width);
    for (let i = 1; i < item.points.length; i++) {
      paintLine(item.points[i - 1], item.points[i], item.width);
    }
  }

  function repaint() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, width, HEIGHT);
    items.forEach(paintItem);
    updateButtons();
  }

  function upload() {
    return items.length === 1 && items[0].bitmap ? items[0] : null;
  }

  function updateButtons() {
    undoButton.disabled = !inked();
    downloadButton.disabled = lastAnswer === null;
  }

  // --- strokes, from the pointer or the keyboard ---------------------------------------------

  function beginStroke(p) {
    if (upload()) {
      items = []; // drawing replaces an uploaded picture
      repaint();
    }
    stroke = { width: penWidth(), points: [p] };
    items.push(stroke);
    paintDot(p, stroke.width);
    adviceOut.textContent = "";
    clearBoxes(); // the boxes belong to the drawing as it was read
    if (!liveBox.checked && (lastAnswer !== null || inFlight > 0)) {
      requestSeq += 1; // an answer to the drawing as it was no longer applies
      resetResult("Changed: press Predict to read the drawing again.");
    }
    updateButtons();
  }

  function extendStroke(p) {
    const last = stroke.points[stroke.points.length - 1];
    stroke.points.push(p);
    paintLine(last, p, stroke.width);
    scheduleLive();
  }

  function endStroke() {
    stroke = null;
    if (liveBox.checked) {
      cancelLive();
      predict(true);
    }
  }

  // Canvas pixels, whatever size CSS gives the box on this screen.
  function point(event) {
    const box = pad.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * width) / box.width,
      y: ((event.clientY - box.top) * HEIGHT) / box.height,
    };
  }

  pad.addEventListener("pointerdown", (event) => {
    if (stroke !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    // preventDefault keeps the pad from taking focus: give it, so that Enter reads the
    // drawing rather than pressing the button clicked last.
    if (event.pointerType !== "touch") pad.focus({ preventScroll: true });
    keyboardMode = false;
    showCursor();
    pad.setPointerCapture(event.pointerId);
    pointerId = event.pointerId;
    beginStroke(point(event));
  });

  pad.addEventListener("pointermove", (event) => {
    if (stroke === null || event.pointerId !== pointerId) return;
    if (event.pointerType === "mouse" && event.buttons === 0) {
      endPointerStroke(event); // the button was released where the page did not hear it
      return;
    }
    event.preventDefault();
    // Coalesced events keep fast strokes smooth (the browser batches moves per frame).
    const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const move of moves.length ? moves : [event]) extendStroke(point(move));
  });

  function endPointerStroke(event) {
    if (stroke === null || event.pointerId !== pointerId) return;
    pointerId = null;
    endStroke();
  }
  pad.addEventListener("pointerup", endPointerStroke);
  pad.addEventListener("pointercancel", endPointerStroke);
  pad.addEventListener("lostpointercapture", endPointerStroke);
  // Touch: the pointer events draw; without this, the browser may swallow the next tap on a
  // button after a quick stroke (it takes the lifted finger for a gesture still going on).
  for (const type of ["touchstart", "touchmove"]) {
    pad.addEventListener(type, (event) => event.preventDefault(), { passive: false });
  }
  pad.addEventListener("contextmenu", (event) => event.preventDefault());

  // The keyboard pen: arrow keys (and Home, End, Page Up, Page Down for the diagonals) move
  // it, Space puts it down or lifts it. A ring shows where it is and how wide it draws.
  pad.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const move = MOVES[event.key];
    if (move) {
      event.preventDefault();
      const step = event.shiftKey ? FINE_STEP : STEP;
      moveKeyPen(move[0] * step, move[1] * step);
    } else if (event.key === " ") {
      event.preventDefault();
      toggleKeyPen();
    } else {
      return;
    }
    keyboardMode = true;
    showCursor();
  });

  function clamp(value, most) {
    return Math.min(most, Math.max(0, value));
  }

  function moveKeyPen(dx, dy) {
    const next = { x: clamp(keyPen.x + dx, width), y: clamp(keyPen.y + dy, HEIGHT) };
    if (keyPen.down && stroke !== null) extendStroke(next);
    keyPen.x = next.x;
    keyPen.y = next.y;
    describePen();
  }

  function toggleKeyPen() {
    if (keyPen.down) {
      liftKeyPen();
    } else if (stroke === null) {
      keyPen.down = true;
      beginStroke({ x: keyPen.x, y: keyPen.y });
    }
    describePen();
  }

  function liftKeyPen() {
    if (!keyPen.down) return;
    keyPen.down = false;
    if (stroke !== null) endStroke();
  }

  function describePen() {
    const across = Math.round(keyPen.x / STEP);
    const down = Math.round(keyPen.y / STEP);
    penState.textContent =
      "Pen " + (keyPen.down ? "down (drawing)" : "up") + ", " + across + " of " +
      Math.round(width / STEP) + " across and " + down + " of " + MNIST + " down.";
  }

  function showCursor() {
    const visible = keyboardMode && document.activeElement === pad;
    cursor.hidden = !visible;
    if (!visible) return;
    const scale = pad.getBoundingClientRect().width / width;
    const size = penWidth() * scale;
    cursor.style.width = size + "px";
    cursor.style.height = size + "px";
    cursor.style.transform =
      "translate(" + (keyPen.x * scale - size / 2) + "px, " + (keyPen.y * scale - size / 2) + "px)";
    cursor.classList.toggle("down", keyPen.down);
  }

  pad.addEventListener("focus", () => {
    if (pad.matches(":focus-visible")) keyboardMode = true; // reached with Tab, not a click
    showCursor();
  });
  pad.addEventListener("blur", () => {
    liftKeyPen();
    describePen();
    showCursor();
  });
  window.addEventListener("resize", showCursor);

  penWidthInput.addEventListener("input", () => {
    penWidthValue.textContent = penWidth() + " px";
    showCursor();
  });

  // --- undo, clear, shortcuts --------------------------------------------------------------

  // Whether any of `item` shows in the pad as wide as it is now: a stroke written in number
  // mode beyond the narrower box is kept, unseen, while one digit is read.
  function shows(item) {
    return !!item.bitmap || item.points.some((p) => p.x - item.width / 2 < width);
  }

  function inked() {
    return items.some(shows);
  }

  // Undo takes back the last stroke one can see; unseen ones stay for number mode.
  function undo() {
    // Read before the button is disabled: a browser may take the focus from a disabled button.
    const fromButton = document.activeElement === undoButton;
    let last = items.length - 1;
    while (last >= 0 && !shows(items[last])) last -= 1;
    if (last < 0) return;
    keyPen.down = false;
    stroke = null;
    pointerId = null;
    cancelLive();
    items.splice(last, 1);
    repaint();
    clearBoxes();
    describePen();
    if (!inked()) {
      requestSeq += 1;
      resetResult("Undone: the box is empty.");
    } else if (liveBox.checked) {
      predict(true);
    } else {
      requestSeq += 1;
      resetResult("Undone the last stroke. Press Predict to read the drawing again.");
    }
    if (fromButton && undoButton.disabled) pad.focus();
  }

  function clearAll() {
    cancelLive();
    requestSeq += 1; // drop any answer still on its way
    stroke = null;
    pointerId = null;
    keyPen.down = false;
    items = [];
    repaint();
    describePen();
    showCursor();
    resetResult("Cleared. " + invitation());
  }

  predictButton.addEventListener("click", () => {
    cancelLive();
    predict(true);
  });
  undoButton.addEventListener("click", undo);
  clearButton.addEventListener("click", clearAll);

  function typing(target) {
    return target instanceof HTMLInputElement && ["text", "search", "number"].includes(target.type);
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    if (event.key === "Escape") {
      // Not from a form control (the model chooser, the pen slider, the mode and Live
      // switches, the file picker): there Esc closes or leaves the control, it does not
      // wipe the drawing (which has no undo).
      const target = event.target;
      if (target instanceof HTMLSelectElement || target instanceof HTMLInputElement ||
          target instanceof HTMLTextAreaElement) {
        return;
      }
      event.preventDefault();
      clearAll();
    } else if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey &&
               event.key.toLowerCase() === "z" && !typing(event.target)) {
      event.preventDefault();
      undo();
    } else if (event.key === "Enter" && (event.target === pad || event.target === document.body)) {
      event.preventDefault();
      liftKeyPen();
      cancelLive();
      predict(true);
    }
  });

  // --- upload --------------------------------------------------------------------------------

  uploadInput.addEventListener("change", () => {
    const file = uploadInput.files && uploadInput.files[0];
    uploadInput.value = ""; // choosing the same file again reads it again
    if (file) useUpload(file);
  });

  async function useUpload(file) {
    if (file.type !== "image/png" && file.type !== "image/jpeg") {
      showError("\u201c" + file.name + "\u201d is not a PNG or JPEG picture.");
      return;
    }
    let bitmap;
    let sent;
    try {
      bitmap = await createImageBitmap(file); // upright: the EXIF orientation is applied
      sent = await uploadUrl(file, bitmap);
    } catch (error) {
      showError("Could not read \u201c" + file.name + "\u201d as a picture.");
      return;
    }
    cancelLive();
    stroke = null;
    keyPen.down = false;
    items = [{ bitmap: bitmap, url: sent.url, sent: sent, name: file.name }];
    repaint();
    clearBoxes();
    describePen();
    predict(true);
  }

  // The file as it is when the server takes it; else scaled down here to fit its limits.
  // With the size of the picture sent: the server's boxes are in its pixels.
  async function uploadUrl(file, bitmap) {
    const pixels = bitmap.width * bitmap.height;
    if (4 * Math.ceil(file.size / 3) + jsonOverhead() <= MAX_BODY && pixels <= MAX_PIXELS) {
      return { url: await readDataUrl(file), width: bitmap.width, height: bitmap.height };
    }
    let scale = Math.min(1, Math.sqrt(MAX_PIXELS / pixels));
    const canvas = document.createElement("canvas");
    for (;;) {
      canvas.width = Math.max(1, Math.floor(bitmap.width * scale));
      canvas.height = Math.max(1, Math.floor(bitmap.height * scale));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const url = canvas.toDataURL(file.type, 0.92);
      if (url.length + jsonOverhead() <= MAX_BODY) {
        return { url: url, width: canvas.width, height: canvas.height };
      }
      if (canvas.width < MNIST || canvas.height < MNIST) throw new Error("too large");
      scale /= 2;
    }
  }

  function readDataUrl(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  // --- the model, asking the server, showing the answer ------------------------------------

  // The request: the drawing, and the name of the model chosen to read it.
  function requestBody(image) {
    return JSON.stringify(modelSelect.value ? { image: image, model: modelSelect.value } : { image: image });
  }

  function jsonOverhead() {
    return requestBody("").length;
  }

  function describeModel() {
    const option = modelSelect.selectedOptions[0];
    if (option) modelInfo.textContent = option.dataset.info;
  }

  // Another model: say what it is, and let it read what is on the pad.
  modelSelect.addEventListener("change", () => {
    describeModel();
    if (inked()) {
      cancelLive();
      predict(true);
    }
  });

  // --- one digit or a number ------------------------------------------------------------------

  function numberMode() {
    return numberBox.checked;
  }

  function invitation() {
    return numberMode()
      ? "Write a number, then press Predict."
      : "Draw a digit, then press Predict.";
  }

  // A number gets a box three times as wide, read by /api/number; what is drawn stays (what
  // lies beyond the narrower box is not shown, nor sent, in digit mode) and is read again.
  function setMode() {
    const number = numberMode();
    width = number ? NUMBER_WIDTH : DIGIT_WIDTH;
    pad.width = width;
    layout.classList.toggle("number-mode", number);
    barsList.hidden = number;
    previewFigure.hidden = number;
    numberList.hidden = !number;
    pad.setAttribute("aria-label", number ? "Drawing pad for a number" : "Drawing pad");
    keyPen.x = clamp(keyPen.x, width);
    cancelLive();
    requestSeq += 1; // an answer on its way belongs to the other mode
    repaint();
    describePen();
    showCursor();
    if (inked()) {
      resetResult(""); // predict() says "Reading..." next
      predict(true);
    } else {
      resetResult((number ? "Number mode. " : "One digit. ") + invitation());
    }
  }
  modeInputs.forEach((input) => input.addEventListener("change", setMode));

  function scheduleLive() {
    if (!liveBox.checked || liveTimer !== null) return;
    liveTimer = setTimeout(() => {
      liveTimer = null;
      if (inFlight === 0) predict(false);
      else scheduleLive();
    }, LIVE_EVERY_MS);
  }

  function cancelLive() {
    clearTimeout(liveTimer);
    liveTimer = null;
  }

  function say(text, kind) {
    statusOut.textContent = text;
    statusOut.className = "status" + (kind ? " " + kind : "");
  }

  function resetResult(text) {
    answer.className = "answer idle";
    digitOut.textContent = "?";
    adviceOut.textContent = "";
    say(text, "");
    showBars(null, -1);
    previewCtx.clearRect(0, 0, preview.width, preview.height);
    numberList.replaceChildren();
    clearBoxes();
    lastAnswer = null;
    updateButtons();
  }

  // The server's message as a sentence: "the drawing is empty: ..." -> "The drawing is empty: ...."
  function asSentence(text) {
    const said = String(text).trim();
    return said.charAt(0).toUpperCase() + said.slice(1) + (/[.!?]$/.test(said) ? "" : ".");
  }

  function percent(p) {
    return (100 * p).toFixed(1) + "%";
  }

  function showBars(probabilities, best) {
    bars.forEach((li, d) => {
      const p = probabilities ? probabilities[d] : 0;
      li.querySelector(".bar").style.transform = "scaleX(" + p + ")";
      li.querySelector(".pct").textContent = probabilities ? percent(p) : "\u2013";
      li.classList.toggle("best", d === best);
    });
  }

  function showPreview(rows, context) {
    const image = context.createImageData(MNIST, MNIST);
    for (let r = 0; r < MNIST; r++) {
      for (let c = 0; c < MNIST; c++) {
        const level = Math.round(255 * Math.min(1, Math.max(0, rows[r][c])));
        const i = 4 * (MNIST * r + c);
        image.data[i] = image.data[i + 1] = image.data[i + 2] = level;
        image.data[i + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  // Whole percents, and never "100 %" for a reading that is not certain.
  function sureness(confidence) {
    const whole = Math.round(100 * confidence);
    return (confidence < 1 ? Math.min(99, whole) : whole) + "\u00a0% sure";
  }

  // One sentence per answer, for the eye and the screen reader alike.
  function sentence(result) {
    const sure = sureness(result.confidence);
    if (result.not_a_digit && result.number) {
      return "That is not one digit: it looks like the number " + result.number + ".";
    }
    if (result.not_a_digit) return NOT_A_DIGIT;
    if (result.unsure) {
      return "Maybe " + result.digit + ", only " + sure + ": try drawing it larger, in one piece.";
    }
    return result.digit + ", " + sure + ".";
  }

  // `announce`: say the answer in the live region. Live requests while a stroke goes on
  // update the digit and the bars quietly; the answer when the stroke ends is announced.
  function showAnswer(result, announce) {
    lastAnswer = result;
    const refused = result.not_a_digit;
    digitOut.textContent = refused ? CROSS : String(result.digit);
    answer.className = "answer" + (refused ? " refused" : result.unsure ? " unsure" : "");
    showBars(result.probabilities, refused ? -1 : result.digit);
    showPreview(result.preview, previewCtx);
    // Forced to choose, the model would still name a digit: say which, and how sure; of a
    // number written here, how to read it.
    const guess = result.probabilities.indexOf(Math.max(...result.probabilities));
    adviceOut.textContent = [
      refused && result.number ? "Choose \u201cA number\u201d to read it." : "",
      refused && !result.number ? "Forced to choose, the model would say " + guess + ", " +
        sureness(result.confidence) + "." : "",
      uploadNote(),
    ].join(" ").trim();
    announceAnswer(sentence(result), refused || result.unsure ? "warn" : "", announce);
    updateButtons();
  }

  function uploadNote() {
    return upload()
      ? "Read from \u201c" + upload().name + "\u201d. Drawing in the box replaces it."
      : "";
  }

  // A quiet answer empties the region (which says nothing) rather than leave stale words.
  function announceAnswer(text, kind, announce) {
    if (announce) say(text, kind);
    else say("", "");
  }

  // A number: "2026"; "that is not a digit" when no mark is a digit; else which marks are
  // not digits and which digits the model is unsure of ("2?6: Mark 2 is not a digit. Not sure
  // of mark 1.").
  function numberSentence(result) {
    const refused = [];
    const unsure = [];
    result.digits.forEach((d, i) => {
      if (d.not_a_digit) refused.push(i + 1);
      else if (d.unsure) unsure.push(i + 1);
    });
    if (refused.length === result.digits.length) {
      return refused.length === 1 ? NOT_A_DIGIT : "None of these marks is a digit.";
    }
    const marks = (list) => "mark" + (list.length > 1 ? "s " : " ") + list.join(", ");
    const notes = [];
    if (refused.length > 0) {
      notes.push(marks(refused) + (refused.length > 1 ? " are not digits." : " is not a digit."));
    }
    if (unsure.length > 0) notes.push("not sure of " + marks(unsure) + ".");
    if (notes.length === 0) return result.text;
    // The first note follows a colon; each further one starts a sentence.
    return result.text + ": " + notes.map((note, k) =>
      k === 0 ? note : note[0].toUpperCase() + note.slice(1)).join(" ");
  }

  function showNumber(result, announce) {
    lastAnswer = null;
    digitOut.textContent = result.text;
    answer.className = "answer number" + (result.complete ? "" : " refused");
    numberList.replaceChildren(...result.digits.map(numberItem));
    showBoxes(result.digits);
    const unsure = result.digits.some((d) => d.unsure);
    // Digits written into each other can read as one mark, wider than it is high: say how to
    // write them instead.
    const [top, left, bottom, right] = result.digits.length === 1 ? result.digits[0].box : [0, 0, 0, 0];
    const oneMark = result.digits.length === 1 && result.digits[0].not_a_digit &&
      right - left > bottom - top;
    adviceOut.textContent = [
      result.complete ? "" : "\u201c?\u201d marks what is not a digit.",
      oneMark ? "If you wrote a number, leave a little space between its digits." : "",
      unsure ? "A \u201cmaybe\u201d is a guess: write that digit larger, on its own." : "",
      uploadNote(),
    ].join(" ").trim();
    announceAnswer(numberSentence(result), result.complete && !unsure ? "" : "warn", announce);
    updateButtons();
  }

  // One digit of a number in the answer: the 28x28 image it was read from, and the reading.
  function numberItem(d, i) {
    const li = document.createElement("li");
    li.className = d.not_a_digit ? "refused" : d.unsure ? "unsure" : "";
    const image = document.createElement("canvas");
    image.width = image.height = MNIST;
    image.setAttribute("role", "img");
    image.setAttribute("aria-label", "Mark " + (i + 1) + " as the model saw it");
    showPreview(d.preview, image.getContext("2d"));
    const reading = document.createElement("span");
    reading.className = "reading";
    reading.textContent = d.not_a_digit ? "not a digit" : (d.unsure ? "maybe " : "") + d.digit;
    const sure = document.createElement("span");
    sure.className = "sure";
    sure.textContent = d.not_a_digit ? "" : sureness(d.confidence);
    li.append(image, reading, sure);
    return li;
  }

  // Each digit's box over the pad, with its reading: [top, left, bottom, right] in canvas
  // pixels, placed in percent so it follows the pad's size on the screen.
  // Where a point of the picture read lies on the pad: the same for a drawing; for an upload,
  // scaled and centred as paintItem shows it (from the pixels of the picture sent).
  function padPlace() {
    const item = upload();
    if (!item) return (x, y) => [x, y];
    const shown = Math.min(width / item.bitmap.width, HEIGHT / item.bitmap.height);
    const sx = (shown * item.bitmap.width) / item.sent.width;
    const sy = (shown * item.bitmap.height) / item.sent.height;
    const x0 = (width - shown * item.bitmap.width) / 2;
    const y0 = (HEIGHT - shown * item.bitmap.height) / 2;
    return (x, y) => [x0 + x * sx, y0 + y * sy];
  }

  function showBoxes(digits) {
    clearBoxes();
    const place = padPlace();
    for (const d of digits) {
      const [left, top] = place(d.box[1], d.box[0]);
      const [right, bottom] = place(d.box[3], d.box[2]);
      const box = document.createElement("div");
      box.className = "box" + (d.not_a_digit ? " refused" : d.unsure ? " unsure" : "") +
        (left > width / 2 ? " end" : "");
      box.style.left = (100 * left) / width + "%";
      box.style.top = (100 * top) / HEIGHT + "%";
      box.style.width = (100 * (right - left)) / width + "%";
      box.style.height = (100 * (bottom - top)) / HEIGHT + "%";
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = d.not_a_digit ? "not a digit" : (d.unsure ? "maybe " : "") + d.digit;
      box.append(tag);
      boxesOut.append(box);
    }
  }

  function clearBoxes() {
    boxesOut.replaceChildren();
  }

  // Nothing of an earlier answer (bars, preview, marks, download) stays beside an error.
  function showError(text) {
    resetResult("");
    say(text, "error");
  }

  async function readError(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") return body.error;
    } catch (ignored) {
      // not JSON: a proxy's error page, or the server's edge refusing a body
    }
    if (response.status === 413) return "the picture is too large to send (413)";
    return "the server answered " + response.status + " " + (response.statusText || "");
  }

  async function predict(announce) {
    if (!inked()) {
      requestSeq += 1; // an answer still on its way no longer applies
      resetResult(
        "The box is empty: " + (numberMode() ? "write a number" : "draw a digit") +
          " or upload a picture first."
      );
      return;
    }
    const number = numberMode();
    const image = upload() ? upload().url : pad.toDataURL("image/png");
    const asked = (number ? "number " : "digit ") + modelSelect.value + " " + image;
    // The same question as the one still on its way (Predict clicked twice, Enter held):
    // its answer will do, unless this one is to be announced and that one is not.
    if (inFlight > 0 && lastAsked.seq === requestSeq && lastAsked.asked === asked &&
        (lastAsked.announce || !announce)) {
      return;
    }
    const seq = ++requestSeq;
    lastAsked = { seq: seq, asked: asked, announce: announce };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    inFlight += 1;
    result.classList.add("reading");
    if (announce) say("Reading\u2026", "busy");
    try {
      const response = await fetch(number ? "/api/number" : "/api/predict", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: requestBody(image),
        signal: controller.signal,
        cache: "no-store",
      });
      const body = response.ok ? await response.json() : await readError(response);
      if (seq !== requestSeq || (!announce && !response.ok)) return;
      if (response.ok && number) showNumber(body, announce);
      else if (response.ok) showAnswer(body, announce);
      else if (response.status === 422) resetResult(asSentence(body));
      else showError("Sorry, the server could not read the drawing: " + body);
    } catch (error) {
      if (seq !== requestSeq || !announce) return;
      showError(
        error && error.name === "AbortError"
          ? "The server took too long to answer. Please try again."
          : "Could not reach the server. Is it still running? (" + error.message + ")"
      );
    } finally {
      clearTimeout(timer);
      inFlight -= 1;
      if (inFlight === 0) result.classList.remove("reading");
    }
  }

  downloadButton.addEventListener("click", () => {
    if (lastAnswer === null) return;
    const read = lastAnswer.not_a_digit ? "not-a-digit" : "digit-" + lastAnswer.digit;
    const name = read + "-" + MNIST + "x" + MNIST + ".png";
    preview.toBlob((blob) => {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = name;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    }, "image/png");
  });

  // --- on load: is the default model there? -------------------------------------------------

  async function checkHealth() {
    let state = "unreachable";
    try {
      const response = await fetch("/healthz", {
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      if (response.ok) {
        state = "ok";
        describeModel(); // the browser may have restored another choice than the default
      } else {
        state = "no model";
        modelInfo.textContent = "No model is loaded yet.";
        // The default model is missing, but another in the chooser may read drawings now.
        const others = Array.from(modelSelect.options).filter((o) => !o.disabled && !o.selected);
        showError(
          "The server cannot read drawings with its default model: " +
            asSentence(await readError(response)) +
            (others.length > 0 ? " Or choose another model under \u201cModel\u201d." : ""),
        );
      }
    } catch (error) {
      modelInfo.textContent = "The server could not be reached.";
      showError("Could not reach the server. Is it still running?");
    }
    document.documentElement.dataset.health = state;
  }

  penWidthValue.textContent = penWidth() + " px";
  // The browser may have restored number mode (back, reload): set the pad up for it.
  if (numberMode()) setMode();
  repaint();
  resetResult(invitation());
  describePen();
  document.documentElement.dataset.ready = "true"; // lets tests wait for the script
  checkHealth();
})();
