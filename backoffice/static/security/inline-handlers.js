// The pages' Content-Security-Policy runs no inline event handlers (onclick="…"). Flask-Admin
// asks for confirmation before a delete with one; this does the same from a script file, so
// the question is still asked (backoffice/security/headers.py).
document.addEventListener('click', function (event) {
  var button = event.target.closest && event.target.closest('[onclick*="safeConfirm("], [onclick*="confirm("]');
  if (!button) { return; }
  var match = /confirm\((['"])(.*?)\1\)/.exec(button.getAttribute('onclick') || '');
  if (match && !window.confirm(match[2].replace(/\\'/g, "'"))) {
    event.preventDefault();
    event.stopPropagation();
  }
}, true);

// Flask-Admin's "with selected" menu runs its actions with onclick="return modelActions.execute('name');".
document.addEventListener('click', function (event) {
  var link = event.target.closest && event.target.closest('[onclick*="modelActions.execute("]');
  if (!link || !window.modelActions) { return; }
  var match = /modelActions\.execute\((['"])(.*?)\1\)/.exec(link.getAttribute('onclick') || '');
  if (match) {
    event.preventDefault();
    window.modelActions.execute(match[2]);
  }
});
