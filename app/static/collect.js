// digitrec collect page: draw the digit asked for, Save it to the class's set (POST
// /api/collect), and get the next digit to draw. A round white pen on black, like the main page.
"use strict";

(function () {
  const pad = document.getElementById("sheet");
  const ctx = pad.getContext("2d");
  const writer = document.getElementById("writer");
  const classCode = document.getElementById("class-code");
  const digitOut = document.getElementById("digit");
  const articleOut = document.getElementById("article");
  // "a 3" but "an 8", as the digit is said.
  const withArticle = (d) => (d === 8 ? "an " : "a ") + d;
  const saveButton = document.getElementById("save");
  const countOut = document.getElementById("count");
  const messageOut = document.getElementById("message");
  const PEN = Number(pad.dataset.pen) || 18;
  // Kept across reloads of this tab (sessionStorage), not for the next learner at a shared
  // computer, who opens the page afresh.
  const REMEMBER = { writer: writer, classCode: classCode };

  let digit = 0; // the digit asked for
  let saved = 0;
  let inked = false;
  let last = null; // {id, x, y} of the pointer drawing now
  // While a drawing is being saved the pad takes no ink: what is saved is what is cleared.
  let saving = false;
  // Longer than the server waits for the class database (30 s), so a save given up on here
  // was not stored later.
  const SAVE_TIMEOUT_MS = 40000;
  // The keyboard pen, as on the main page: an arrow key moves it one pixel of the 28x28
  // digit (Shift: a fifth of that), Space puts it down or lifts it, Enter saves.
  const cursor = document.getElementById("sheet-cursor");
  const penState = document.getElementById("sheet-pen");
  const FIELD = 28;
  const STEP = pad.width / FIELD;
  const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  const keyPen = { x: pad.width / 2, y: pad.height / 2, down: false };

  function say(text, kind) {
    messageOut.textContent = text;
    messageOut.className = "message" + (kind ? " " + kind : "");
  }

  // Ask for `next`, and remember it: after a reload the learner goes on from there, so a
  // class's set does not fill up with 0s.
  function ask(next) {
    digit = next;
    digitOut.textContent = String(digit);
    articleOut.textContent = digit === 8 ? "an" : "a";
    try {
      sessionStorage.setItem("digitrec.next", String(digit));
    } catch (ignored) {
      // storage blocked: a reload starts again at 0
    }
  }

  function clearPad() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
    ctx.strokeStyle = ctx.fillStyle = "#fff";
    ctx.lineWidth = PEN;
    ctx.lineCap = ctx.lineJoin = "round";
    inked = false;
    keyPen.down = false;
    if (document.activeElement === pad) showKeyPen();
  }

  function at(event) {
    const box = pad.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * pad.width) / box.width,
      y: ((event.clientY - box.top) * pad.height) / box.height,
    };
  }

  pad.addEventListener("pointerdown", (event) => {
    if (saving || last !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    pad.focus({ preventScroll: true }); // so that Enter saves, not the button clicked last
    pad.setPointerCapture(event.pointerId);
    const p = at(event);
    ctx.beginPath();
    ctx.arc(p.x, p.y, PEN / 2, 0, 2 * Math.PI);
    ctx.fill();
    last = { id: event.pointerId, x: p.x, y: p.y };
    inked = true;
  });
  pad.addEventListener("pointermove", (event) => {
    if (last === null || event.pointerId !== last.id) return;
    if (event.pointerType === "mouse" && event.buttons === 0) {
      last = null; // the button was released where the page did not hear it
      return;
    }
    event.preventDefault();
    const p = at(event);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    Object.assign(last, p);
  });
  const lift = (event) => {
    if (last !== null && event.pointerId === last.id) last = null;
  };
  pad.addEventListener("pointerup", lift);
  pad.addEventListener("pointercancel", lift);
  pad.addEventListener("lostpointercapture", lift);
  // Touch: the pointer events draw; without this, the browser may swallow the next tap on
  // Save after a quick stroke.
  for (const type of ["touchstart", "touchmove"]) {
    pad.addEventListener(type, (event) => event.preventDefault(), { passive: false });
  }
  pad.addEventListener("contextmenu", (event) => event.preventDefault());

  function showKeyPen() {
    const scale = pad.getBoundingClientRect().width / pad.width;
    const size = PEN * scale;
    cursor.hidden = document.activeElement !== pad;
    cursor.style.width = cursor.style.height = size + "px";
    cursor.style.transform =
      "translate(" + (keyPen.x * scale - size / 2) + "px, " + (keyPen.y * scale - size / 2) + "px)";
    cursor.classList.toggle("down", keyPen.down);
    penState.textContent =
      "Pen " + (keyPen.down ? "down (drawing)" : "up") + ", " + Math.round(keyPen.x / STEP) +
      " of " + FIELD + " across and " + Math.round(keyPen.y / STEP) + " of " + FIELD + " down.";
  }

  pad.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const move = MOVES[event.key];
    if (event.key === "Enter") {
      event.preventDefault();
      save();
      return;
    }
    if (saving || (!move && event.key !== " ")) return;
    event.preventDefault();
    if (move) {
      const step = event.shiftKey ? STEP / 5 : STEP;
      const x = Math.min(pad.width, Math.max(0, keyPen.x + move[0] * step));
      const y = Math.min(pad.height, Math.max(0, keyPen.y + move[1] * step));
      if (keyPen.down) {
        ctx.beginPath();
        ctx.moveTo(keyPen.x, keyPen.y);
        ctx.lineTo(x, y);
        ctx.stroke();
      }
      Object.assign(keyPen, { x: x, y: y });
    } else {
      keyPen.down = !keyPen.down;
      if (keyPen.down) {
        ctx.beginPath();
        ctx.arc(keyPen.x, keyPen.y, PEN / 2, 0, 2 * Math.PI);
        ctx.fill();
        inked = true;
      }
    }
    showKeyPen();
  });
  pad.addEventListener("focus", showKeyPen);
  pad.addEventListener("blur", () => {
    keyPen.down = false;
    cursor.hidden = true;
  });

  async function save() {
    if (saving) return; // Enter held down, or pressed twice: one drawing is saved once
    if (!writer.value.trim() || !classCode.value.trim()) {
      say("Type your name and your class code first.", "error");
      (writer.value.trim() ? classCode : writer).focus();
      return;
    }
    if (!inked) {
      say("The box is empty: draw " + withArticle(digit) + " first.", "warn");
      return;
    }
    // Read before the button is disabled: a browser may take the focus from a disabled button.
    const fromButton = document.activeElement === saveButton;
    saveButton.disabled = true;
    saving = true;
    last = null; // a stroke still going ends here: the picture below is what is saved
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SAVE_TIMEOUT_MS);
    try {
      const response = await fetch("/api/collect", {
        signal: controller.signal,
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({
          image: pad.toDataURL("image/png"),
          label: digit,
          writer: writer.value.trim(),
          class: classCode.value.trim(),
        }),
        cache: "no-store",
      });
      let body = null;
      try {
        body = await response.json();
      } catch (ignored) {
        // not JSON: a proxy's error page, say
      }
      if (response.status === 201 && body) {
        // The database's count of this writer's drawings in this class: it holds across
        // reloads and devices; this page's own count if the server could not say.
        saved = Number.isInteger(body.saved) ? body.saved : saved + 1;
        countOut.textContent = saved + " saved";
        say("Saved your " + digit + ". Now draw " + withArticle(body.next) + ".", "");
        ask(body.next);
        clearPad();
      } else {
        const text = body && typeof body.error === "string" ? body.error.trim() :
          response.status === 413 ? "the drawing is too large to send." :
          "the server could not save it (error " + response.status + "). Try again.";
        // The API names its fields; the page names them as its labels do, and points there.
        const field = /^writer\b/.test(text) ? writer : /^class\b/.test(text) ? classCode : null;
        const worded = text.replace(/^writer\b/, "your name").replace(/^class\b/, "the class code");
        say("Not saved: " + worded + (/[.!?]$/.test(worded) ? "" : "."), "error");
        if (field) field.focus();
      }
    } catch (error) {
      say(
        error && error.name === "AbortError"
          ? "The server took too long to answer: not saved. Try again."
          : "Could not reach the server: not saved. Is it still running? Try again.",
        "error",
      );
    } finally {
      clearTimeout(timer);
      saving = false;
      saveButton.disabled = false;
      const lost = document.activeElement === null || document.activeElement === document.body;
      if (fromButton && lost) saveButton.focus(); // a keyboard user stays where they were
    }
  }

  saveButton.addEventListener("click", save);
  document.getElementById("clear").addEventListener("click", () => {
    last = null;
    clearPad();
    say("Cleared. Draw " + withArticle(digit) + ", then press Save.", "");
  });
  for (const [key, input] of Object.entries(REMEMBER)) {
    try {
      input.value = sessionStorage.getItem("digitrec." + key) || "";
      input.addEventListener("change", () =>
        sessionStorage.setItem("digitrec." + key, input.value));
    } catch (ignored) {
      // storage blocked: the learner types again after a reload
    }
  }

  let remembered = null;
  try {
    remembered = Number(sessionStorage.getItem("digitrec.next"));
  } catch (ignored) {
    // storage blocked
  }
  ask(Number.isInteger(remembered) && remembered >= 0 && remembered <= 9 ? remembered : 0);
  clearPad();
  document.documentElement.dataset.ready = "true"; // lets tests wait for the script
})();
