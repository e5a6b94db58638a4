// Progressive enhancement only: every form works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // A switch (language, company) takes effect as soon as it is chosen.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    const button = select.form.querySelector("button[type=submit]");
    if (button) button.classList.add("visually-hidden");
    select.addEventListener("change", () => select.form.requestSubmit());
  }
});
