// The chat panel's Stop button. A click tells the kernel to stop the answer; while the
// agent's approved code runs on the kernel's main thread (`interrupts`), the kernel is busy
// and hears no widget message until the code ends, so the click also interrupts the kernel,
// as its own interrupt button would: that stops the code. anywidget loads it from the
// kernel (no build, no CDN).

function renderStop({ model, el }) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "jupyter-widgets jupyter-button widget-button ck-stop-button";
  const icon = document.createElement("i");
  icon.className = "fa fa-stop";
  button.append(icon, " ", model.get("description"));
  button.title = "Stop the answer";
  el.append(button);

  function draw() {
    button.disabled = model.get("disabled");
    button.title = model.get("interrupts")
      ? "Stop the answer, and interrupt the kernel to stop the code it runs"
      : "Stop the answer";
  }
  draw();
  model.on("change:disabled", draw);
  model.on("change:interrupts", draw);

  button.addEventListener("click", () => {
    if (model.get("interrupts")) {
      // JupyterLab and Notebook 7 give widgets their kernel; elsewhere (VS Code) the
      // click still stops the answer once the code ends, and the interrupt button works.
      const kernel = model.widget_manager && model.widget_manager.kernel;
      if (kernel && typeof kernel.interrupt === "function") kernel.interrupt();
    }
    model.send({ event: "click" });
  });
}

export default { render: renderStop };
