// Barcode field for keyboard-wedge scanners (no build step).
// A scanner "types" the code and presses Enter. On Enter the code is sent to the form's action with htmx, the field
// is cleared at once (so the next scan can start while the request runs), requests go one after another in scan
// order, the lines table (data-target) is swapped in place and the focus stays in the field. Without JavaScript the
// form posts normally and the page reloads.
(function () {
  let queue = Promise.resolve();
  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-barcode-input]") || event.key !== "Enter") return;
    event.preventDefault();
    const code = input.value.trim();
    input.value = "";
    const form = input.form;
    if (!code || !form || typeof htmx === "undefined") return;
    const token = form.querySelector("[name=csrfmiddlewaretoken]");
    queue = queue
      .then(() => htmx.ajax("POST", form.action, {
        source: form,
        target: form.dataset.target,
        swap: "innerHTML",
        values: { code: code },
        headers: token ? { "X-CSRFToken": token.value } : {},
      }))
      .catch(() => {})
      .then(() => input.focus());
  });
})();
