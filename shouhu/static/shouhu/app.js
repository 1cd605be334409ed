// Behaviour that pages ask for with data attributes: no inline script anywhere, so the
// Content-Security-Policy can forbid it (script-src 'self').
//   <select data-autosubmit>  submits its form when the choice changes;
//   <button data-print>       prints the page.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
document.addEventListener("click", function (event) {
  var button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (button) {
    event.preventDefault();
    window.print();
  }
});
// A page sent back with errors starts at their summary, which links to each field.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});
