// Paper results entry without the mouse: a result letter moves on to the rating before,
// a finished rating (one digit, or 10) to the next box; Enter jumps to the next door's
// result (and never submits by accident); the letter is upper-cased as it is typed.
(function () {
  "use strict";
  var form = document.getElementById("paper-entry");
  if (!form) return;
  var inputs = Array.prototype.slice.call(form.querySelectorAll("tbody input"));

  function next(input) {
    var i = inputs.indexOf(input);
    if (i >= 0 && i + 1 < inputs.length) inputs[i + 1].focus();
  }

  function nextDoor(input) {
    var row = input.closest("tr");
    var following = row && row.nextElementSibling;
    var target = following && following.querySelector("input[data-kind=result]");
    if (target) target.focus();
    else form.querySelector("button[type=submit]").focus();
  }

  form.addEventListener("input", function (event) {
    var input = event.target;
    if (input.dataset.kind === "result") {
      input.value = input.value.toUpperCase();
      if (input.value) next(input);
    } else if (input.dataset.kind === "rating") {
      var v = input.value;
      if ((v.length === 1 && v !== "1") || v.length === 2) next(input);
    }
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.tagName === "INPUT" && event.target.closest("tbody")) {
      event.preventDefault();
      nextDoor(event.target);
    }
  });
  var first = form.querySelector("tr.has-error input") || inputs[0];
  if (first) first.focus();
})();
