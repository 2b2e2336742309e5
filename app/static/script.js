// digitrec: draw with a round white pen on black, send the drawing to /api/predict, show
// what came back. Pointer events cover mouse, touch and pen alike. No inline scripts, no
// external assets: the page works offline under a strict Content-Security-Policy.
"use strict";

(function () {
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const predictButton = document.getElementById("predict");
  const clearButton = document.getElementById("clear");
  const liveBox = document.getElementById("live");
  const answer = document.querySelector(".answer");
  const digitOut = document.getElementById("digit");
  const confidenceOut = document.getElementById("confidence");
  const messageOut = document.getElementById("message");
  const bars = Array.from(document.querySelectorAll("#bars li"));
  const preview = document.getElementById("preview");
  const previewCtx = preview.getContext("2d");

  const PEN = Number(pad.dataset.pen) || 18;
  const LIVE_EVERY_MS = 300; // at most one live request this often while drawing
  const TIMEOUT_MS = 10000;

  let inked = false; // anything drawn since the last Clear?
  let stroke = null; // {id, x, y} of the pointer drawing now
  let requestSeq = 0; // each request's number; a Clear or newer request makes older ones stale
  let inFlight = 0;
  let liveTimer = null;

  function clearPad() {
    ctx.globalCompositeOperation = "source-over";
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = PEN;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    inked = false;
  }

  // Canvas pixels, whatever size CSS gives the box on this screen.
  function point(event) {
    const box = pad.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * pad.width) / box.width,
      y: ((event.clientY - box.top) * pad.height) / box.height,
    };
  }

  function dot(p) {
    ctx.beginPath();
    ctx.arc(p.x, p.y, PEN / 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  function line(a, b) {
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }

  pad.addEventListener("pointerdown", (event) => {
    if (stroke !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    const p = point(event);
    stroke = { id: event.pointerId, x: p.x, y: p.y };
    dot(p);
    inked = true;
  });

  pad.addEventListener("pointermove", (event) => {
    if (stroke === null || event.pointerId !== stroke.id) return;
    event.preventDefault();
    // Coalesced events keep fast strokes smooth (the browser batches moves per frame).
    const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const move of moves.length ? moves : [event]) {
      const p = point(move);
      line(stroke, p);
      stroke.x = p.x;
      stroke.y = p.y;
    }
    scheduleLive();
  });

  function endStroke(event) {
    if (stroke === null || event.pointerId !== stroke.id) return;
    stroke = null;
    if (liveBox.checked) {
      clearTimeout(liveTimer);
      liveTimer = null;
      predict();
    }
  }
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);
  pad.addEventListener("contextmenu", (event) => event.preventDefault());

  function scheduleLive() {
    if (!liveBox.checked || liveTimer !== null) return;
    liveTimer = setTimeout(() => {
      liveTimer = null;
      if (inFlight === 0) predict();
      else scheduleLive();
    }, LIVE_EVERY_MS);
  }

  function say(text, kind) {
    messageOut.textContent = text;
    messageOut.className = "message" + (kind ? " " + kind : "");
  }

  function resetResult(text) {
    answer.className = "answer idle";
    digitOut.textContent = "?";
    confidenceOut.textContent = "\u00a0";
    say(text, "");
    showBars(null, -1);
    previewCtx.clearRect(0, 0, preview.width, preview.height);
  }

  function showBars(probabilities, best) {
    bars.forEach((li, d) => {
      const p = probabilities ? probabilities[d] : 0;
      li.querySelector(".bar").style.transform = "scaleX(" + p + ")";
      li.querySelector(".pct").textContent = probabilities ? (100 * p).toFixed(1) + "%" : "\u00a0";
      li.classList.toggle("best", d === best);
      li.setAttribute("aria-label", d + ": " + (probabilities ? (100 * p).toFixed(1) + "%" : "no answer"));
    });
  }

  function showPreview(rows) {
    const image = previewCtx.createImageData(28, 28);
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        const level = Math.round(255 * Math.min(1, Math.max(0, rows[r][c])));
        const i = 4 * (28 * r + c);
        image.data[i] = image.data[i + 1] = image.data[i + 2] = level;
        image.data[i + 3] = 255;
      }
    }
    previewCtx.putImageData(image, 0, 0);
  }

  function showAnswer(result) {
    const percent = (100 * result.confidence).toFixed(1) + "%";
    digitOut.textContent = String(result.digit);
    confidenceOut.textContent = "Confidence " + percent;
    showBars(result.probabilities, result.digit);
    showPreview(result.preview);
    if (result.unsure) {
      answer.className = "answer unsure";
      say("I'm not sure: maybe a " + result.digit + "? Try drawing it larger, in one piece.", "warn");
    } else {
      answer.className = "answer";
      say("That looks like a " + result.digit + ".", "");
    }
  }

  function showError(text) {
    answer.className = "answer idle";
    digitOut.textContent = "?";
    confidenceOut.textContent = "\u00a0";
    say(text, "error");
  }

  async function readError(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") return body.error;
    } catch (ignored) {
      // not JSON: a proxy's error page, say
    }
    return "the server answered " + response.status + " " + (response.statusText || "");
  }

  async function predict() {
    if (!inked) {
      requestSeq += 1; // an answer still on its way no longer applies
      resetResult("The box is empty: draw a digit first, then press Predict.");
      return;
    }
    const seq = ++requestSeq;
    const image = pad.toDataURL("image/png");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    inFlight += 1;
    predictButton.setAttribute("aria-busy", "true");
    try {
      const response = await fetch("/api/predict", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ image: image }),
        signal: controller.signal,
        cache: "no-store",
      });
      if (response.ok) {
        const result = await response.json();
        if (!isNewest(seq)) return;
        showAnswer(result);
      } else if (response.status === 422) {
        const text = await readError(response);
        if (!isNewest(seq)) return;
        resetResult("Nothing to read: " + text + ".");
      } else {
        const text = await readError(response);
        if (!isNewest(seq)) return;
        showError("Sorry, the server could not read the drawing: " + text);
      }
    } catch (error) {
      if (!isNewest(seq)) return;
      showError(
        error && error.name === "AbortError"
          ? "The server took too long to answer. Please try again."
          : "Could not reach the server. Is it still running? (" + error.message + ")"
      );
    } finally {
      clearTimeout(timer);
      inFlight -= 1;
      if (inFlight === 0) predictButton.removeAttribute("aria-busy");
    }
  }

  // Only the answer to the latest request is shown; older ones arrive too late to matter.
  function isNewest(seq) {
    return seq === requestSeq;
  }

  predictButton.addEventListener("click", () => {
    clearTimeout(liveTimer);
    liveTimer = null;
    predict();
  });

  clearButton.addEventListener("click", () => {
    clearTimeout(liveTimer);
    liveTimer = null;
    requestSeq += 1; // drop any answer still on its way
    stroke = null;
    clearPad();
    resetResult("Cleared. Draw a digit, then press Predict.");
  });

  clearPad();
  resetResult("Draw a digit, then press Predict.");
  document.documentElement.dataset.ready = "true"; // lets tests wait for the script
})();
