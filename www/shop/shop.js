// The demo shop's client: ask its "server side" (the dev-only /dev/demo-order route, which signs
// a real API call with the demo merchant's key) for an order, then open the paydesk checkout.
(function () {
  var result = document.getElementById('result');
  var events = [];
  window.shopEvents = events;
  ['paid', 'failed', 'closed'].forEach(function (type) {
    document.addEventListener('paydesk:' + type, function (e) {
      events.push({ type: type, detail: e.detail });
      if (type === 'paid') result.textContent = 'Paid. Thank you! Order ' + e.detail.out_trade_no;
      if (type === 'failed') result.textContent = 'Payment did not go through (' + e.detail.code + ').';
      if (type === 'closed') result.textContent = 'Checkout closed.';
    });
  });
  document.getElementById('buy').addEventListener('click', async function () {
    result.textContent = 'Creating your order…';
    var r = await fetch('/dev/demo-order', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    if (r.status !== 201) { result.textContent = 'Could not create an order.'; return; }
    var order = await r.json();
    result.textContent = '';
    var outcome = await window.Paydesk.open(order.checkout_url);
    window.shopOutcome = outcome;
  });
})();
