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
  el.append(html, live, tools);

  let shownHtml = "";
  function draw() {
    const now = model.get("html");
    if (now !== shownHtml) {
      if (shownHtml && now.startsWith(shownHtml)) {
        // Finished blocks were added: put in only those, keeping what is shown (and a
        // selection in it) as it is.
        html.insertAdjacentHTML("beforeend", now.slice(shownHtml.length));
      } else {
        html.innerHTML = now;
      }
      shownHtml = now;
      addCodeCopyButtons(html);
    }
    if (live.textContent !== model.get("live")) live.textContent = model.get("live");
    tools.hidden = !model.get("done");
    stopped.hidden = !model.get("stopped");
    up.classList.toggle("ck-chosen", model.get("vote") === "positive");
    down.classList.toggle("ck-chosen", model.get("vote") === "negative");
  }
  draw();
  for (const name of ["html", "live", "done", "stopped", "vote"]) model.on(`change:${name}`, draw);
}

export default {
  initialize({ model }) {
    followAnswer(model);
  },
  render: renderAnswer,
};
