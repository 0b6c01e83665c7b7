// main.js - the only script of the site: small, progressive enhancements.
(function () {
  // Mark the link to the page we are on.
  // /about.html and /about are the same page; so are /index.html and /.
  var here = location.pathname.replace(/\.html$/, '').replace(/\/index$/, '/');
  document.querySelectorAll('nav a').forEach(function (a) {
    if (a.getAttribute('href') === here) {
      a.classList.add('current');
    }
  });

  // Count visits in this browser (localStorage: nothing leaves the browser).
  var note = document.getElementById('visits');
  if (note && window.localStorage) {
    var n = Number(localStorage.getItem('visits') || 0) + 1;
    localStorage.setItem('visits', String(n));
    if (n > 1) {
      note.textContent = 'Welcome back: visit number ' + n + ' from this browser.';
    }
  }
})();
