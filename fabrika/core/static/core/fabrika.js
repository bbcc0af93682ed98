// Fabrika UI helpers (no build step).
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 500) alert("Server error " + status);
});
