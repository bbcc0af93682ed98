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

// Close the global search dropdown with Escape or a click elsewhere.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") document.querySelectorAll(".search-dropdown").forEach((el) => { el.innerHTML = ""; });
});
document.addEventListener("click", (event) => {
  if (!event.target.closest(".topsearch")) document.querySelectorAll(".search-dropdown").forEach((el) => { el.innerHTML = ""; });
});
