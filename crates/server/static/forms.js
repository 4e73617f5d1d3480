// Confirmation for destructive forms (data-confirm) and the admin's library upload.
// Served from our origin: the Content-Security-Policy allows no inline script.
"use strict";
function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", () => {
  const upload = document.getElementById("upload");
  if (!upload) return;
  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = upload.querySelector('input[type="file"]').files[0];
    const result = document.getElementById("upload-result");
    if (!file) return;
    const response = await fetch("/api/v1/library/uploads?name=" + encodeURIComponent(file.name), {
      method: "POST",
      headers: { "x-csrf-token": csrfToken(), "content-type": "application/octet-stream" },
      body: file,
    });
    const body = await response.json().catch(() => ({}));
    result.textContent = response.ok
      ? upload.dataset.done
      : upload.dataset.failed + ": " + (body.error || response.status);
    if (response.ok) window.setTimeout(() => window.location.reload(), 800);
  });
});
