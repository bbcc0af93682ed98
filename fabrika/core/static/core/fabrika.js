// Fabrika UI helpers (no build step).
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 500) alert("Server error " + status);
});

// A header checkbox with data-check-all="<name>" ticks every row checkbox of that name in its table.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.checkAll) return;
  const table = box.closest("table");
  if (!table) return;
  table.querySelectorAll(`input[type=checkbox][name="${box.dataset.checkAll}"]`).forEach((row) => { row.checked = box.checked; });
});

// A bulk action with a question (BulkAction.confirm, the option's data-confirm) asks it before the list's form posts.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.id !== "bulk-form") return;
  const option = form.querySelector("select[name=action]")?.selectedOptions[0];
  const question = option ? option.dataset.confirm : "";
  if (question && !window.confirm(question)) event.preventDefault();
});

// Close the global search dropdown with Escape or a click elsewhere.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") document.querySelectorAll(".search-dropdown").forEach((el) => { el.innerHTML = ""; });
});
document.addEventListener("click", (event) => {
  if (!event.target.closest(".topsearch")) document.querySelectorAll(".search-dropdown").forEach((el) => { el.innerHTML = ""; });
});

// AutocompleteSelect (fabrika/core/ui/autocomplete.py): typing in the search box lists matches from the server;
// choosing one makes it the select's only option, so the form posts its id as a plain <select> would.
(() => {
  let timer = null;
  const hitsOf = (box) => box.querySelector(".autocomplete-hits");
  const clear = (box) => { hitsOf(box).innerHTML = ""; };
  async function lookup(box, query) {
    const base = box.dataset.autocompleteUrl;
    const url = base + (base.includes("?") ? "&" : "?") + new URLSearchParams({ q: query });
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) { clear(box); return; }
    const hits = hitsOf(box);
    hits.innerHTML = "";
    for (const item of await response.json()) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.value = item.value;
      button.textContent = item.label;
      li.appendChild(button);
      hits.appendChild(li);
    }
  }
  // The search box is not a form value: its own "change" (on blur) must not reach a field's htmx validation, whose
  // answer would otherwise replace the field after the choice was made.
  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.classList.contains("autocomplete-input")) event.stopPropagation();
  }, true);
  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("autocomplete-input")) return;
    const box = input.closest(".autocomplete");
    clearTimeout(timer);
    if (!input.value.trim()) { clear(box); return; }
    timer = setTimeout(() => lookup(box, input.value.trim()), 250);
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".autocomplete-hits button");
    if (!button) {
      document.querySelectorAll(".autocomplete").forEach((box) => { if (!box.contains(event.target)) clear(box); });
      return;
    }
    const box = button.closest(".autocomplete");
    const select = box.querySelector("select");
    let option = Array.from(select.options).find((o) => o.value === button.dataset.value);
    if (!option) { option = new Option(button.textContent, button.dataset.value); select.add(option); }
    select.value = button.dataset.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    box.querySelector(".autocomplete-input").value = "";
    clear(box);
  });
})();
