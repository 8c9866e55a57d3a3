// The chat panel's composer: a text box where Enter submits, Shift+Enter is a new line, the
// focus stays after sending, and typing @ offers the notebook's variables. anywidget loads
// it from the kernel (no build, no CDN); the answer is answer.js.

// Sending from a panel scrolled back to older messages brings the newest into view, so
// the answer is seen as it streams (the message list is a column-reverse box: 0 is the
// bottom).
function showNewest(el) {
  const scroll = el.closest(".ck-panel")?.querySelector(".ck-scroll");
  if (scroll) scroll.scrollTop = 0;
}

// "@na" just before the caret: the start of a variable name to complete.
const MENTION = /(^|[^\w@])@([A-Za-z_]\w*)?$/;

function renderComposer({ model, el }) {
  el.classList.add("ck-composer-box");
  // Lab and Notebook 7 must not take Enter, Shift+Enter or Escape typed here as their own
  // shortcuts (run the cell, leave edit mode).
  el.setAttribute("data-lm-suppress-shortcuts", "true");
  const multiline = model.get("multiline");
  const box = document.createElement(multiline ? "textarea" : "input");
  box.className = "ck-composer-input";
  if (multiline) box.rows = model.get("rows");
  // The @ menu floats over the page, a child of <body> placed beside the box: inside the
  // panel, the scrolling boxes around it (the notebook's, an output's) would clip it.
  const menu = document.createElement("div");
  menu.className = "ck-mentions";
  menu.id = `ck-mentions-${Math.random().toString(36).slice(2)}`;
  menu.hidden = true;
  menu.setAttribute("role", "listbox");
  box.setAttribute("aria-controls", menu.id);
  box.setAttribute("aria-autocomplete", "list");
  el.append(box);

  function draw() {
    if (box.value !== model.get("value")) box.value = model.get("value");
    box.placeholder = model.get("placeholder");
    box.disabled = model.get("disabled");
  }
  draw();
  model.on("change:value", draw);
  model.on("change:placeholder", draw);
  model.on("change:disabled", draw);

  // -- @ names: the kernel offers its variables (never hidden or secret-looking ones) --
  let choices = [];
  let chosen = 0;
  function typedName() {
    const match = MENTION.exec(box.value.slice(0, box.selectionStart));
    return match ? match[2] || "" : null;
  }
  function hideMenu() {
    menu.hidden = true;
    box.setAttribute("aria-expanded", "false");
  }
  // Below the box if the rows fit there, else on whichever side has more room, never past
  // the window's edge; it follows the box when the page scrolls.
  function place() {
    if (menu.hidden) return;
    const r = box.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return hideMenu(); // the box is gone from view
    const margin = 4;
    const below = window.innerHeight - r.bottom - margin;
    const above = r.top - margin;
    menu.style.maxHeight = "";
    const wanted = Math.min(menu.scrollHeight, 240);
    const down = below >= wanted || below >= above;
    const room = Math.max(Math.min(240, down ? below : above), 40);
    menu.style.maxHeight = `${room}px`;
    const height = Math.min(menu.scrollHeight, room);
    menu.style.top = `${down ? r.bottom + 2 : Math.max(margin, r.top - 2 - height)}px`;
    const left = Math.min(r.left, window.innerWidth - menu.offsetWidth - margin);
    menu.style.left = `${Math.max(margin, left)}px`;
  }
  function showMenu() {
    const typed = typedName();
    const offered = model.get("mentions");
    choices = typed === null ? [] : offered.filter(([name]) => name.startsWith(typed));
    menu.replaceChildren();
    if (choices.length === 0) return hideMenu();
    if (!menu.isConnected) document.body.append(menu);
    menu.hidden = false;
    box.setAttribute("aria-expanded", "true");
    chosen = Math.min(chosen, Math.max(choices.length - 1, 0));
    choices.forEach(([name, kind], index) => {
      const row = document.createElement("div");
      row.className = "ck-mention" + (index === chosen ? " ck-mention-chosen" : "");
      row.setAttribute("role", "option");
      const code = document.createElement("code");
      code.textContent = name;
      const what = document.createElement("span");
      what.className = "ck-mention-kind";
      what.textContent = kind;
      row.append(code, " ", what);
      row.addEventListener("mousedown", (event) => {
        event.preventDefault(); // keep the focus in the box
        pick(index);
      });
      menu.append(row);
    });
    place();
    menu.children[chosen]?.scrollIntoView({ block: "nearest" });
  }
  const follow = () => place();
  window.addEventListener("scroll", follow, true);
  window.addEventListener("resize", follow);
  function pick(index) {
    const [name] = choices[index];
    const caret = box.selectionStart;
    const before = box.value.slice(0, caret).replace(/@([A-Za-z_]\w*)?$/, `@${name} `);
    box.value = before + box.value.slice(caret);
    box.selectionStart = box.selectionEnd = before.length;
    hideMenu();
    choices = [];
    save();
  }
  model.on("change:mentions", showMenu);

  function save() {
    model.set("value", box.value);
    model.save_changes();
  }
  box.addEventListener("input", () => {
    save();
    const typed = typedName();
    if (typed === "") model.send({ event: "mentions" }); // "@" just typed: ask afresh
    if (typed === null) hideMenu();
    else showMenu();
  });
  box.addEventListener("blur", hideMenu);
  box.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    if (!menu.hidden && choices.length > 0) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        event.stopPropagation();
        const step = event.key === "ArrowDown" ? 1 : -1;
        chosen = (chosen + step + choices.length) % choices.length;
        showMenu();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        event.stopPropagation();
        pick(chosen);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        hideMenu();
        return;
      }
    }
    if (event.key !== "Enter") return;
    event.stopPropagation();
    if (event.shiftKey && multiline) {
      // A new line, put in here: JupyterLab cancels the one the browser would insert in
      // an element inside a cell when it follows a keydown it did not see handled.
      event.preventDefault();
      box.setRangeText("\n", box.selectionStart, box.selectionEnd, "end");
      save();
      return;
    }
    event.preventDefault();
    if (!model.get("accepting") || !box.value.trim()) return; // keep what was typed
    // The box empties before the question travels: a `value` update ipywidgets still holds
    // back (one per round trip) can then only say "empty", never bring the question back.
    const text = box.value;
    box.value = "";
    save();
    model.send({ event: "submit", value: text });
    showNewest(el);
  });
  model.on("msg:custom", (message) => {
    if (message && message.event === "sent") {
      showNewest(el); // also after a click on Send: the answer comes into view
      box.focus();
    }
  });
  return () => {
    window.removeEventListener("scroll", follow, true);
    window.removeEventListener("resize", follow);
    menu.remove();
  };
}

export default { render: renderComposer };
