// Put back what a failed save kept (shouhu/lib/typed_input.py): every field of the page's
// forms whose name was posted gets its typed value again. Hidden fields are left alone:
// they carry the current version, never the stale one.
(function () {
  "use strict";
  function restore() {
    var data = document.getElementById("recovered-input");
    if (!data) { return; }
    var fields = JSON.parse(data.textContent || "{}");
    Object.keys(fields).forEach(function (name) {
      var values = fields[name];
      document.querySelectorAll("[name]").forEach(function (el) {
        if (el.name !== name || el.type === "hidden" || el.readOnly) { return; }
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = values.indexOf(el.value) !== -1;
        } else if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.options, function (option) {
            option.selected = values.indexOf(option.value) !== -1;
          });
        } else if (el.type !== "file" && el.type !== "password") {
          el.value = values[0];
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restore);
  } else {
    restore();
  }
})();
