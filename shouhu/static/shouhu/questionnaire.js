// One question per screen for children on a phone (progressive: without script every
// question is shown). Conditional questions (data-show-if="item:1,2;item2:1") are hidden
// and cleared while their condition does not hold.
(function () {
  "use strict";
  function init(form) {
    var questions = Array.prototype.slice.call(form.querySelectorAll(".question"));
    var back = form.querySelector("[data-step=back]");
    var next = form.querySelector("[data-step=next]");
    var submit = form.querySelector("[type=submit]");
    var progress = form.querySelector("[data-progress]");
    var single = form.classList.contains("one-by-one");
    var current = 0;

    function answer(item) {
      var checked = form.querySelector('input[name="item-' + item + '"]:checked');
      return checked ? checked.value : null;
    }
    function applies(q) {
      var rule = q.getAttribute("data-show-if");
      if (!rule) return true;
      return rule.split(";").some(function (part) {
        var bits = part.split(":");
        var value = answer(bits[0]);
        return value !== null && bits[1].split(",").indexOf(value) !== -1;
      });
    }
    function visible() {
      return questions.filter(function (q) {
        var on = applies(q);
        if (!on) {
          q.querySelectorAll("input").forEach(function (i) { i.checked = false; });
        }
        q.hidden = !on;
        return on;
      });
    }
    function render() {
      var shown = visible();
      if (!single) return;
      if (current >= shown.length) current = shown.length - 1;
      shown.forEach(function (q, i) { q.hidden = i !== current; });
      back.hidden = current === 0;
      var last = current === shown.length - 1;
      next.hidden = last;
      submit.hidden = !last;
      progress.textContent = (current + 1) + " / " + shown.length;
      var first = shown[current] && shown[current].querySelector("input");
      if (first) first.focus({ preventScroll: true });
    }
    // An answer does not move on by itself: a tap followed by "Next" out of habit would
    // skip a question unseen. The person moves on with "Next".
    form.addEventListener("change", function () { render(); });
    back.addEventListener("click", function () { current = Math.max(0, current - 1); render(); });
    next.addEventListener("click", function () { current += 1; render(); });
    function show(question) {
      var index = visible().indexOf(question);
      if (index === -1) return false;
      current = index;
      render();
      question.scrollIntoView({ block: "start" });
      return true;
    }
    // The list of unanswered questions at the top links to each: in one-by-one mode the
    // question is hidden, so go to it instead of following the link.
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest('a[href^="#q-"]');
      if (!link || !single) return;
      var question = form.querySelector(link.getAttribute("href"));
      if (question && show(question)) event.preventDefault();
    });
    // Sent back with questions unanswered: start at the first one that needs an answer.
    var firstError = form.querySelector(".question.has-error");
    if (firstError) current = Math.max(0, visible().indexOf(firstError));
    render();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.questionnaire").forEach(init);
  });
})();
