// bench_peer.js - one peer library on one venue's frames of a capture
// written by `bench_mix --write-capture` (capture-format.md), as its live
// loop would run them: JSON.parse of the raw frame text, then the
// library's own message handler / normalizer and order-book update.
//
//   node bench_peer.js tardis|ccxt VENUE CAPTURE LIQMON_BOOKS.json [REPS]
//
// Prints one JSON line: frames, median CPU and wall seconds over REPS runs
// (each run on fresh library state), frames/s, and whether every book's
// top N levels equal liqmon's final books (LIQMON_BOOKS.json, from
// `bench_mix --peer-bench ... --books-out`).  Reading the capture (the
// JSONL wrapper around each frame) is not timed.
'use strict';
const fs = require('fs');

const [lib, venue, capPath, booksPath, repsArg] = process.argv.slice(2);
const reps = Number(repsArg || 3);
const frames = [];
for (const line of fs.readFileSync(capPath, 'utf8').split('\n')) {
  if (!line) continue;
  const c = JSON.parse(line);
  if (c.venue !== venue) continue;
  frames.push({ src: c.src, url: c.url, text: c.frame });
}
const liqmon = JSON.parse(fs.readFileSync(booksPath, 'utf8'));

// ---- tardis-dev: normalizer (book_change) + OrderBook -------------------
function tardisRun() {
  const t = require('tardis-dev');
  const { BybitV5BookChangeMapper } = require('tardis-dev/dist/mappers/bybit');
  const now = new Date();
  let mapper;
  if (venue === 'binance-usdm') mapper = t.normalizeBookChanges('binance-futures', now);
  else if (venue === 'okx-swap') mapper = t.normalizeBookChanges('okex-swap', now);
  // normalizeBookChanges('bybit') is bound to orderbook.50; the same class
  // for the orderbook.200 topic the capture carries.
  else mapper = new BybitV5BookChangeMapper('bybit', 200);
  const books = {};
  const step = (f) => {
    let msg = JSON.parse(f.text);
    if (f.src === 'rest') {
      // tardis-dev's real-time Binance futures feed injects the REST depth
      // snapshot into the stream as <sym>@depthSnapshot (generated).
      const sym = /symbol=([A-Z0-9]+)/.exec(f.url)[1];
      msg = { stream: sym.toLowerCase() + '@depthSnapshot', generated: true, data: msg };
    }
    if (!mapper.canHandle(msg)) return;
    const localTimestamp = new Date();
    for (const bc of mapper.map(msg, localTimestamp)) {
      let ob = books[bc.symbol];
      if (ob === undefined) ob = books[bc.symbol] = new t.OrderBook();
      ob.update(bc);
    }
  };
  return { step, top: (sym, side, n) => {
    const ob = books[sym];
    const out = [];
    if (!ob) return out;
    for (const l of (side === 'bids' ? ob.bids() : ob.asks())) {
      if (out.length >= n) break;
      out.push([l.price, l.amount]);
    }
    return out;
  } };
}

// ---- ccxt pro: the exchange's websocket message handler + OrderBook -----
async function ccxtRun() {
  const ccxt = require('ccxt');
  const symOf = {
    'binance-usdm': (id) => id.replace(/USDT$/, '') + '/USDT:USDT',
    'bybit-linear': (id) => id.replace(/USDT$/, '') + '/USDT:USDT',
    'okx-swap': (id) => id.split('-')[0] + '/USDT:USDT',
  }[venue];
  const ids = {
    'binance-usdm': ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'],
    'bybit-linear': ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'],
    'okx-swap': ['BTC-USDT-SWAP', 'ETH-USDT-SWAP', 'SOL-USDT-SWAP', 'XRP-USDT-SWAP'],
  }[venue];
  const cls = { 'binance-usdm': 'binanceusdm', 'bybit-linear': 'bybit', 'okx-swap': 'okx' }[venue];
  const url = { 'binance-usdm': 'wss://fstream.binance.com/public/ws',
                'bybit-linear': 'wss://stream.bybit.com/v5/public/linear',
                'okx-swap': 'wss://ws.okx.com:8443/ws/v5/public' }[venue];
  const ex = new ccxt.pro[cls]({});
  // Markets as loadMarkets would set them (no network here).
  const markets = {};
  for (const id of ids) {
    const symbol = symOf(id), base = symbol.split('/')[0];
    markets[symbol] = { id, symbol, base, quote: 'USDT', settle: 'USDT', baseId: base,
      quoteId: 'USDT', settleId: 'USDT', type: 'swap', spot: false, margin: false,
      swap: true, future: false, option: false, active: true, contract: true,
      linear: true, inverse: false, contractSize: 1,
      precision: { amount: 0.001, price: 0.01 }, limits: {}, info: {} };
  }
  ex.setMarkets(markets);
  const client = ex.client(url);       // the real client object, never connected
  for (const id of ids) {
    // what watchOrderBook leaves behind: the subscription
    const symbol = symOf(id);
    client.subscriptions['orderbook::' + symbol] = true;
    client.subscriptions['orderbook:' + symbol] = true;
    client.subscriptions['books:' + symbol] = true;
  }
  const step = (f) => {
    const msg = JSON.parse(f.text);
    if (f.src === 'rest') {
      // binance fetchOrderBookSnapshot: fetchOrderBook's parse, then
      // orderbook.reset(snapshot) on the book watchOrderBook created
      const id = /symbol=([A-Z0-9]+)/.exec(f.url)[1], symbol = symOf(id);
      const snapshot = ex.parseOrderBook(msg, symbol, ex.safeInteger(msg, 'T'));
      snapshot['nonce'] = ex.safeInteger(msg, 'lastUpdateId');
      const ob = ex.orderBook({}, 1000);
      ob.reset(snapshot);
      ex.orderbooks[symbol] = ob;
      return;
    }
    ex.handleMessage(client, msg);
  };
  return { step, top: (id, side, n) => {
    const ob = ex.orderbooks[symOf(id)];
    if (!ob) return [];
    return ob[side].slice(0, n).map((l) => [l[0], l[1]]);
  } };
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

(async () => {
  const cpus = [], walls = [];
  let last;
  for (let r = 0; r < reps; r++) {
    const run = lib === 'tardis' ? tardisRun() : await ccxtRun();
    const c0 = process.cpuUsage(), w0 = process.hrtime.bigint();
    for (let i = 0; i < frames.length; i++) run.step(frames[i]);
    const w = Number(process.hrtime.bigint() - w0) / 1e9;
    const c = process.cpuUsage(c0);
    walls.push(w);
    cpus.push((c.user + c.system) / 1e6);
    last = run;
  }
  // Books: top N of every liqmon book of this venue.
  let bad = 0, checked = 0, first = null;
  for (const key of Object.keys(liqmon)) {
    if (!key.startsWith(venue + ':')) continue;
    const sym = key.slice(venue.length + 1);
    for (const side of ['bids', 'asks']) {
      const want = liqmon[key][side];
      const have = last.top(sym, side, want.length);
      checked++;
      let ok = have.length === want.length;
      for (let k = 0; ok && k < want.length; k++) {
        const [p, q] = want[k];
        const qn = Number(q);
        ok = have[k][0] === p && Math.abs(have[k][1] - qn) <= 1e-9 * Math.max(1, qn);
        if (!ok && first === null)
          first = `${key} ${side}[${k}]: ${JSON.stringify(have[k])} vs liqmon ${JSON.stringify(want[k])}`;
      }
      if (!ok && first === null) first = `${key} ${side}: ${have.length} levels vs ${want.length}`;
      bad += ok ? 0 : 1;
    }
  }
  const cpu = median(cpus), wall = median(walls);
  console.log(JSON.stringify({ lib, venue, frames: frames.length, cpu_s: cpu, wall_s: wall,
    fps: Math.round(frames.length / cpu), fps_wall: Math.round(frames.length / wall),
    sides_checked: checked, sides_differ: bad, first_difference: first }));
})().catch((e) => { console.error(e); process.exit(1); });
