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
