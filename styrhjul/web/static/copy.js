// Copy buttons: <button class="copy" data-copy="ID"> copies the value of the input ID.
// A file, not an inline script, so the pages' strict Content-Security-Policy holds.
"use strict";
document.querySelectorAll("button.copy[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    const status = button.parentElement.querySelector(".copied");
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = "Kopierad.";
    } catch (error) {
      if (status) status.textContent = "Markerad: tryck Ctrl+C för att kopiera.";
    }
  });
});
