// The in-page half of the bench, the same for every library: it waits for the
// library's setup, then calls its `track` with one Segment e-commerce event and times
// each call's synchronous part with performance.now(). Classic script, no imports.
(function () {
  const CATALOGUE = [
    ["p-1001", "TEE-ORG-BLK-M", "Organic cotton T-shirt", "Northwind", "Apparel/Tops", "black / M", 24.9],
    ["p-1002", "MUG-ENM-BLU", "Enamel camping mug", "Fjellvik", "Outdoor/Kitchen", "blue", 12.5],
    ["p-1003", "BAG-CNV-NAT", "Canvas tote bag", "Northwind", "Accessories/Bags", "natural", 18],
    ["p-1004", "SOK-WOL-GRY-42", "Merino hiking socks", "Fjellvik", "Apparel/Socks", "grey / 42", 14.95],
    ["p-1005", "LMP-DSK-BRS", "Brass desk lamp", "Atelier Nord", "Home/Lighting", "brass", 89],
    ["p-1006", "TEA-SEN-100", "Sencha green tea 100 g", "Kumo", "Grocery/Tea", "100 g", 9.8],
    ["p-1007", "BTL-STL-750", "Steel water bottle 750 ml", "Fjellvik", "Outdoor/Bottles", "750 ml", 27.5],
    ["p-1008", "NTB-DOT-A5", "Dotted notebook A5", "Papier & Co", "Office/Notebooks", "A5", 11.2],
  ];

  /** "Product Added" properties as the Segment e-commerce spec v2 lists them. */
  function productAdded(i) {
    const [product_id, sku, name, brand, category, variant, price] = CATALOGUE[i % CATALOGUE.length];
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    return {
      cart_id: "c-5f1e2a9b",
      product_id,
      sku,
      category,
      name,
      brand,
      variant,
      price,
      currency: "EUR",
      quantity: 1 + (i % 3),
      coupon: "SPRING10",
      position: 1 + (i % 24),
      url: "https://shop.example/products/" + slug,
      image_url: "https://shop.example/images/" + slug + ".jpg",
    };
  }

  const longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push([entry.startTime, entry.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch {
    // No Long Tasks API: the figure is reported as missing.
  }

  let api = null;
  const errors = [];

  window.bench = {
    /** Runs the library's setup: `fn` resolves to `{ track(name, props), version? }` once it is live. */
    setup(fn) {
      this.ready = Promise.resolve()
        .then(fn)
        .then((value) => {
          api = value;
          return { readyAtMs: performance.now(), version: value.version || null, isolated: self.crossOriginIsolated };
        });
    },
    /** Errors the library reported (its own error events), as strings. */
    errors,
    /**
     * Makes `calls` track calls, one per task: after each, the page yields with
     * setTimeout(gapMs) so the library's deferred work runs as it would between a
     * shopper's clicks. `noop` times the harness itself with an empty function.
     */
    async run({ calls, gapMs = 0, noop = false, offset = 0 }) {
      const track = noop ? function () {} : api.track;
      const samples = new Array(calls);
      const start = performance.now();
      for (let i = 0; i < calls; i++) {
        const properties = productAdded(offset + i);
        const t0 = performance.now();
        track("Product Added", properties);
        samples[i] = performance.now() - t0;
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      const end = performance.now();
      return { samples, start, end };
    },
    /** Long tasks (50 ms or more) that started at or after `since`: [count, total ms], or null. */
    longTasksSince(since) {
      if (!PerformanceObserver.supportedEntryTypes || !PerformanceObserver.supportedEntryTypes.includes("longtask")) return null;
      const mine = longTasks.filter(([startTime]) => startTime >= since);
      return [mine.length, mine.reduce((sum, [, duration]) => sum + duration, 0)];
    },
  };
})();
