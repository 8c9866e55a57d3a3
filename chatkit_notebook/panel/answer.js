// The chat panel's answer: an assistant answer that streams by appending text, with thumbs
// and Copy. anywidget loads it from the kernel (no build, no CDN); the composer is
// composer.js. Each answer widget carries its module, so this file stays small.
//
// Safety rule: this file never turns model text into HTML. Streamed text is shown as text
// (textContent). HTML comes only from Python (markdown-it-py, sanitised); for a finished
// block Python sends a patch that rebuilds its exact HTML from the text already sent
// (positive n: copy n characters of the text, negative n: skip them, a string: insert it),
// and Python checks that the patch yields exactly its HTML before sending it.

function patch(text, ops) {
  let at = 0;
  let html = "";
  for (const op of ops) {
    if (typeof op === "string") {
      html += op;
    } else if (op > 0) {
      html += text.slice(at, at + op);
      at += op;
    } else {
      at -= op;
    }
  }
  return { html, used: at };
}

async function copyText(getText, button) {
  const label = button.textContent;
  let text = "";
  try {
    text = await getText();
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (error) {
    // No clipboard access (an insecure page, a denied permission): select-and-copy instead.
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    button.textContent = copied ? "Copied" : "Copy failed";
  }
  setTimeout(() => (button.textContent = label), 1500);
}

function copyButton(title, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "ck-copy-button";
  button.textContent = "Copy";
  button.title = title;
  button.addEventListener("click", () => copyText(text, button));
  return button;
}

function addCodeCopyButtons(root) {
  for (const pre of root.querySelectorAll("pre.ck-code")) {
    if (pre.parentElement && pre.parentElement.classList.contains("ck-code-wrap")) continue;
    const wrap = document.createElement("div");
    wrap.className = "ck-code-wrap";
    pre.replaceWith(wrap);
    wrap.append(copyButton("Copy this code", async () => pre.textContent), pre);
  }
}

// The answer's stream, kept on the model (anywidget's initialize: once per model, before
// and without any view). Each message is [n, text] or [n, ops, text], n counting from 1:
// first `ops` turns the start of the open text into finished HTML, then `text` is
// appended. The model is updated locally (not saved: the kernel holds the same values),
// so every view, drawn now or later, shows the same. A message that went missing (one
// that came before this code was loaded) shows as a gap in n, or as the kernel's `seq`
// running ahead: then the kernel is asked for its whole state, once.
function followAnswer(model) {
  let applied = model.get("seq");
  let waiting = false;
  const resync = () => {
    if (!waiting) {
      waiting = true;
      model.send({ event: "sync" });
    }
  };
  model.on("msg:custom", (message) => {
    if (message && Array.isArray(message.sync)) {
      const [seq, html, live] = message.sync;
      waiting = false;
      if (seq >= applied) {
        applied = seq;
        model.set({ html, live, seq });
      }
      return;
    }
    if (!Array.isArray(message)) return;
    const n = message[0];
    const [ops, text] = message.length === 3 ? message.slice(1) : [null, message[1]];
    if (waiting || n <= applied) return;
    if (n !== applied + 1) return resync();
    let open = model.get("live");
    let finished = model.get("html");
    if (ops) {
      const made = patch(open, ops);
      finished += made.html;
      open = open.slice(made.used);
    }
    applied = n;
    model.set({ html: finished, live: open + text, seq: n });
  });
  model.on("change:seq", () => {
    if (model.get("seq") > applied) resync(); // the kernel said where it is: we are behind
  });
}

function thumb(kind, title, model) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `ck-thumb ck-thumb-${kind}`;
  button.title = title;
  button.setAttribute("aria-label", title);
  const icon = document.createElement("i");
  icon.className = `fa fa-thumbs-${kind === "positive" ? "up" : "down"}`;
  button.append(icon);
  button.addEventListener("click", () => model.send({ event: "vote", kind }));
  return button;
}

// How long the kernel waits at most between two messages while text arrives (views.py's
// MAX_WAIT): the first guess of when the next text comes.
const EXPECTED_GAP_MS = 250;
// Text kept back for when the next message is late (a busy kernel, a slow network)...
const SLACK_MS = 300;
// ...and shown at least this fast meanwhile, a character at a time.
const MIN_STEP_MS = 50;
// A new answer's first word may come alone, long before the next message: its reveal waits
// this long for more (or for FIRST_CHARS), so the next words follow it without a pause.
const FIRST_HOLD_MS = 150;
const FIRST_CHARS = 16;

// Text arrives a few messages a second (each message costs bytes); it is shown a little
// every frame, spread over the time until the next message is due, so a person sees it
// grow smoothly, as it is written, instead of in jumps. Only text the browser already has
// is paced: no message is added. A finished block's HTML replaces its text once the
// reveal has reached the block's end, so it never jumps ahead of it either.
//
// `text` is the open text being revealed (after the HTML shown), `shown` how much of it
// shows; `swaps` are finished HTML waiting for the reveal to reach `at`, a position in
// `text`; the model's own open text starts where the last swap is.
function pacedAnswer({ model, htmlEl, textNode, onChange }) {
  let htmlShown = "";
  let modelHtml = "";
  let text = "";
  let shown = 0;
  let swaps = [];
  let arrived = 0;
  let gap = EXPECTED_GAP_MS;
  let carry = 0;
  let frame = 0;
  let last = 0;
  let startAt = -1; // when the reveal may begin (-1: no text has come yet)
  const openStart = () => (swaps.length ? swaps[swaps.length - 1].at : 0);

  function putHtml(now) {
    if (now === htmlShown) return;
    if (htmlShown && now.startsWith(htmlShown)) {
      // Finished blocks were added: put in only those, keeping what is shown (and a
      // selection in it) as it is.
      htmlEl.insertAdjacentHTML("beforeend", now.slice(htmlShown.length));
    } else {
      htmlEl.innerHTML = now;
    }
    htmlShown = now;
    addCodeCopyButtons(htmlEl);
  }
  function paint() {
    while (swaps.length && shown >= swaps[0].at) {
      const { at, html } = swaps.shift();
      putHtml(html);
      text = text.slice(at);
      shown -= at;
      for (const swap of swaps) swap.at -= at;
      textNode.data = "";
    }
    const now = text.slice(0, shown);
    if (now.startsWith(textNode.data)) textNode.appendData(now.slice(textNode.data.length));
    else textNode.data = now;
    onChange();
  }
  function tick(now) {
    frame = 0;
    const waiting = text.length - shown;
    if (waiting <= 0) return paint();
    const step = Math.min(Math.max(now - last, 0), 100);
    last = now;
    if (now < startAt && text.length < FIRST_CHARS && !model.get("done")) {
      frame = requestAnimationFrame(tick);
      return;
    }
    // Spread what waits until the next message is due, with some kept back for then.
    const due = model.get("done") ? SLACK_MS / 2 : Math.max(arrived + gap - now, 0) + SLACK_MS;
    carry += Math.max((waiting * step) / due, step / MIN_STEP_MS);
    const more = Math.min(Math.floor(carry), waiting);
    if (more > 0) {
      carry -= more;
      shown += more;
      paint();
    }
    frame = requestAnimationFrame(tick);
  }
  function showAll(html, live) {
    startAt = 0;
    swaps = [];
    putHtml(html);
    text = live;
    shown = live.length;
    paint();
  }
  return {
    // The model's html and open text changed (`first`: the view's first draw).
    update(first) {
      const html = model.get("html");
      const live = model.get("live");
      const q = openStart();
      const open = text.slice(q);
      // Drawn for the first time: a finished answer, or one a reloaded page joins
      // midway, shows at once; the first words of a new answer are paced like the rest.
      if (first && (model.get("done") || model.get("seq") > 1)) {
        modelHtml = html;
        return showAll(html, live);
      }
      if (html === modelHtml && live.startsWith(open)) {
        text = text.slice(0, q) + live;
      } else if (html.startsWith(modelHtml)) {
        // A finished block: its HTML took `used` characters of the open text.
        let used = 0;
        while (used < open.length && !live.startsWith(open.slice(used))) used += 1;
        swaps.push({ at: q + used, html });
        text = text.slice(0, q + used) + live;
      } else {
        modelHtml = html; // the whole state, sent again (a missed message)
        return showAll(html, live);
      }
      modelHtml = html;
      const now = performance.now();
      if (startAt < 0 && text.length > 0) startAt = now + FIRST_HOLD_MS;
      if (text.length > shown) {
        if (arrived) gap = Math.min(Math.max(0.7 * gap + 0.3 * (now - arrived), 40), 600);
        arrived = now;
      }
      if (!frame && text.length > shown) {
        last = now;
        frame = requestAnimationFrame(tick);
      }
      paint();
    },
    get revealing() {
      return shown < text.length || swaps.length > 0;
    },
    stop() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
    },
  };
}

// "`sales` changed since this answer (…)": our own text, `code` spans drawn as code, as
// text nodes (never HTML).
function staleLine(text) {
  const line = document.createElement("div");
  line.className = "ck-stale-line";
  text.split("`").forEach((part, i) => {
    if (i % 2 === 1) {
      const code = document.createElement("code");
      code.textContent = part;
      line.append(code);
    } else if (part) {
      line.append(document.createTextNode(part));
    }
  });
  return line;
}

function renderStale(model, box, lines) {
  box.replaceChildren(...lines.map(staleLine));
  const again = document.createElement("button");
  again.type = "button";
  again.className = "ck-ask-again";
  again.textContent = "Ask again on the current data";
  again.title = "Ask the same question again, on the variables as they are now";
  again.addEventListener("click", () => model.send({ event: "ask_again" }));
  box.append(again);
  box.hidden = lines.length === 0;
}

function renderAnswer({ model, el }) {
  el.classList.add("ck-answer");
  const html = document.createElement("div");
  html.className = "ck-answer-html";
  const live = document.createElement("div");
  live.className = "ck-live";
  // Under a finished answer: "Stopped" if it was, the thumbs, and Copy.
  const tools = document.createElement("div");
  tools.className = "ck-answer-tools";
  const stopped = document.createElement("span");
  stopped.className = "ck-stopped-mark";
  stopped.textContent = "Stopped";
  const up = thumb("positive", "Good answer", model);
  const down = thumb("negative", "Bad answer", model);
  // The Markdown stays in the kernel (it is not needed to draw): Copy asks for it.
  let replies = [];
  const markdown = () =>
    new Promise((resolve) => {
      replies.push(resolve);
      model.send({ event: "copy" });
    });
  model.on("msg:custom", (message) => {
    if (message && typeof message.markdown === "string") {
      const waiting = replies;
      replies = [];
      for (const resolve of waiting) resolve(message.markdown);
    }
  });
  tools.append(stopped, up, down, copyButton("Copy this answer's Markdown", markdown));
  const liveText = document.createTextNode("");
  live.append(liveText);
  // Under the answer, when a variable it read has changed since: what changed, and a
  // button to ask the same question again.
  const stale = document.createElement("div");
  stale.className = "ck-stale-mark";
  stale.setAttribute("role", "note");
  const drawStale = () => renderStale(model, stale, model.get("stale") || []);
  drawStale();
  model.on("change:stale", drawStale);
  el.append(html, live, stale, tools);

  // Thumbs and Copy come once the answer is done and all of it shows.
  const showTools = () => (tools.hidden = !model.get("done") || paced.revealing);
  const paced = pacedAnswer({ model, htmlEl: html, textNode: liveText, onChange: showTools });
  function mark() {
    showTools();
    stopped.hidden = !model.get("stopped");
    up.classList.toggle("ck-chosen", model.get("vote") === "positive");
    down.classList.toggle("ck-chosen", model.get("vote") === "negative");
  }
  paced.update(true);
  mark();
  // html and live change together (one set): draw once, on the one that changes last.
  model.on("change:html", () => paced.update(false));
  model.on("change:live", () => paced.update(false));
  for (const name of ["done", "stopped", "vote"]) model.on(`change:${name}`, mark);
  return () => paced.stop();
}

export default {
  initialize({ model }) {
    followAnswer(model);
  },
  render: renderAnswer,
};
