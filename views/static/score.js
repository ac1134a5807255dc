// Shows the review total (Σ weight × score) as the judge types. The server
// computes it again; without JavaScript the total shows after saving.
(function () {
  var form = document.getElementById('review');
  var out = document.getElementById('total');
  if (!form || !out) return;
  function update() {
    var total = 0;
    form.querySelectorAll('input[data-weight]').forEach(function (i) {
      var w = parseFloat(i.dataset.weight) || 1;
      var v = parseInt(i.value, 10);
      if (!isNaN(v)) total += w * v;
    });
    out.textContent = String(Math.round(total * 100) / 100);
  }
  form.addEventListener('input', update);
})();
