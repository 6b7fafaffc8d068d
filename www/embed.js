/*! paydesk embed loader: docs/architecture.md, "Embedding". */
(function () {
  'use strict';
  if (window.Paydesk) return;
  var script = document.currentScript;
  var ORIGIN = new URL(script ? script.src : location.href).origin;
  var open = null; // the one checkout on screen

  // CSSOM, not a style attribute: host pages with a strict CSP (no inline styles) allow it.
  function style(el, css) { el.style.cssText = css; return el; }

  function emit(target, type, detail) {
    var ev = new CustomEvent('paydesk:' + type, { detail: detail, bubbles: true });
    (target && target.isConnected ? target : document).dispatchEvent(ev);
  }

  function start(url, trigger) {
    var u = new URL(url, location.href);
    if (u.origin !== ORIGIN || u.pathname.indexOf('/pay/') !== 0) {
      return Promise.reject(new Error('paydesk: not a paydesk checkout URL: ' + url));
    }
    if (open) open.shut();
    u.searchParams.set('embed', location.origin);
    var wide = window.matchMedia('(min-width: 640px)').matches;
    var overlay = style(document.createElement('div'),
      'position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.45);display:flex;' +
      'align-items:center;justify-content:center');
    overlay.setAttribute('data-paydesk-overlay', '');
    // Phones: a sheet under a bar holding the close button; wide screens: a dialog.
    var frame = style(document.createElement('iframe'), wide
      ? 'width:420px;height:min(760px,92vh);border:0;border-radius:16px;background:#fff'
      : 'position:absolute;left:0;right:0;bottom:0;top:48px;width:100%;height:calc(100% - 48px);border:0;' +
        'border-radius:12px 12px 0 0;background:#fff');
    frame.src = u.href;
    var zh = /^zh/i.test(document.documentElement.lang || navigator.language);
    overlay.role = 'dialog';
    overlay.ariaModal = 'true';
    overlay.ariaLabel = frame.title = zh ? '付款' : 'Checkout';
    frame.setAttribute('allow', 'payment');
    var close = style(document.createElement('button'),
      'position:absolute;top:8px;right:8px;width:40px;height:40px;border:0;border-radius:20px;' +
      'background:rgba(0,0,0,.6);color:#fff;font:24px/40px sans-serif;cursor:pointer');
    close.type = 'button';
    close.ariaLabel = zh ? '关闭' : 'Close';
    close.textContent = '\u00d7';
    overlay.appendChild(frame);
    overlay.appendChild(close);
    var opener = document.activeElement;
    document.body.appendChild(overlay);
    var resolve;
    var promise = new Promise(function (r) { resolve = r; });
    var done = false;
    var paid = null;
    var review = false;
    var state = {
      shut: shut,
      finish: function (status, outTradeNo) {
        if (done) return;
        done = true;
        window.removeEventListener('message', onMessage);
        document.removeEventListener('keydown', onKey);
        document.removeEventListener('focusin', onFocus);
        overlay.remove();
        if (opener && opener.focus) opener.focus();
        if (open === state) open = null;
        if (status === 'closed') emit(trigger, 'closed', { out_trade_no: outTradeNo });
        resolve({ status: status, out_trade_no: outTradeNo, in_review: review });
      }
    };
    function onMessage(e) {
      // Only the pay page, in this checkout's own frame, may speak.
      if (e.origin !== ORIGIN || e.source !== frame.contentWindow) return;
      var d = e.data;
      if (!d || typeof d.type !== 'string') return;
      if (d.type === 'paydesk:paid' && !paid) {
        paid = d.out_trade_no;
        review = d.code === 'IN_REVIEW';
        emit(trigger, 'paid', { out_trade_no: paid, in_review: review });
        if (!review) setTimeout(function () { state.finish('paid', paid); }, 1500);
      } else if (d.type === 'paydesk:return') {
        state.finish(paid ? 'paid' : 'closed', paid);
      } else if (d.type === 'paydesk:failed') {
        emit(trigger, 'failed', { out_trade_no: d.out_trade_no, code: d.code });
      }
    }
    function shut() { state.finish(paid ? 'paid' : 'closed', paid); }
    function onKey(e) { if (e.key === 'Escape') shut(); }
    function onFocus(e) { if (!overlay.contains(e.target)) close.focus(); }
    window.addEventListener('message', onMessage);
    document.addEventListener('keydown', onKey);
    document.addEventListener('focusin', onFocus);
    close.addEventListener('click', shut);
    frame.focus();
    open = state;
    return promise;
  }

  document.addEventListener('click', function (e) {
    var el = e.target.closest && e.target.closest('[data-paydesk-checkout]');
    if (!el) return;
    e.preventDefault();
    start(el.getAttribute('data-paydesk-checkout'), el).catch(function (err) { console.error(err); });
  });

  if (window.customElements && !customElements.get('paydesk-checkout')) {
    customElements.define('paydesk-checkout', class extends HTMLElement {
      connectedCallback() {
        if (this.shadowRoot) return;
        var root = this.attachShadow({ mode: 'open' });
        var b = document.createElement('button');
        b.type = 'button';
        b.part = 'button';
        b.innerHTML = '<slot>Pay</slot>';
        var self = this;
        b.addEventListener('click', function () {
          start(self.getAttribute('url'), self).catch(function (err) { console.error(err); });
        });
        root.appendChild(b);
      }
    });
  }

  window.Paydesk = { open: function (url) { return start(url, null); }, origin: ORIGIN };
})();
