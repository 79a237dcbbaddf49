// The snippet a shop pastes into its pages, first thing in <head>, followed by
// `souk.init({ writeKey: "..." })`. It defines `window.souk` at once as a stub that
// records every call, then loads the loader without blocking the page. The loader
// replays the recorded calls in order. The last argument is where the loader lives.
(function (w, d, src) {
  if (w.souk) return; // pasted twice: the first copy stays the only one
  var calls = [];
  var souk = (w.souk = { _calls: calls });
  "init page track identify alias reset flush on off".split(" ").forEach(function (m) {
    souk[m] = function () {
      calls.push([m, [].slice.call(arguments)]);
    };
  });
  souk.stats = function () {
    return null;
  };
  var consent = (souk.consent = { get: function () { return null; } });
  "set show on off".split(" ").forEach(function (m) {
    consent[m] = function () {
      calls.push(["consent." + m, [].slice.call(arguments)]);
    };
  });
  souk.ready = function () {
    return new Promise(function (resolve) {
      calls.push(["ready", [resolve]]);
    });
  };
  var s = d.createElement("script");
  s.async = true;
  s.src = src;
  (d.head || d.documentElement).appendChild(s);
})(window, document, "/dist/souk.js");
