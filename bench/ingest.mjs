// souk-server's ingest rate under a bounded local load: `concurrency` clients post
// `POST /v1/batch` with `batchSize` valid track messages each (every messageId
// unique) until `total` events are sent, against a fresh SQLite file. Loopback only;
// it stops by itself.
import http from "node:http";
import { randomUUID } from "node:crypto";

const PRODUCTS = ["p-1001", "p-1002", "p-1003", "p-1004", "p-1005", "p-1006", "p-1007", "p-1008"];

/** One batch body: `batchSize` "Product Added" messages from a few hundred shoppers. */
function batchBody(run, first, batchSize, writeKey) {
  const now = new Date().toISOString();
  const messages = [];
  for (let i = first; i < first + batchSize; i++) {
    const product = PRODUCTS[i % PRODUCTS.length];
    messages.push(
      `{"type":"track","event":"Product Added","messageId":"bench-${run}-${i}",` +
        `"anonymousId":"anon-${run.slice(0, 8)}-${i % 500}","timestamp":"${now}",` +
        `"properties":{"cart_id":"c-${i % 500}","product_id":"${product}","sku":"SKU-${product}",` +
        `"name":"Bench product ${product}","brand":"Northwind","category":"Apparel/Tops","variant":"black / M",` +
        `"price":24.9,"currency":"EUR","quantity":${1 + (i % 3)},"position":${1 + (i % 24)},` +
        `"url":"https://shop.example/products/${product}"},` +
        `"context":{"library":{"name":"souk-bench-ingest","version":"1"},"locale":"en-GB",` +
        `"page":{"path":"/products/${product}","url":"https://shop.example/products/${product}"}}}`,
    );
  }
  return `{"batch":[${messages.join(",")}],"sentAt":"${now}","writeKey":"${writeKey}"}`;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

/**
 * Posts until `total` events have been sent. Returns the figures; throws when a
 * request fails or the server accepted fewer messages than were sent.
 */
export async function ingestLoad({ url, writeKey, total = 200_000, batchSize = 100, concurrency = 8, timeoutMs = 180_000 }) {
  const target = new URL("/v1/batch", url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const auth = "Basic " + Buffer.from(writeKey + ":").toString("base64");
  const run = randomUUID();
  const batches = Math.ceil(total / batchSize);
  const latencies = [];
  let next = 0;
  let accepted = 0;
  let duplicates = 0;
  let rejected = 0;
  let bytes = 0;
  const deadline = Date.now() + timeoutMs;

  function post(body) {
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = http.request(
        target,
        { method: "POST", agent, headers: { "Content-Type": "application/json", Authorization: auth, "Content-Length": Buffer.byteLength(body) } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`));
            resolve({ ms, answer: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  async function client() {
    while (next < batches) {
      if (Date.now() > deadline) throw new Error(`ingest load did not finish in ${timeoutMs / 1000} s`);
      const index = next++;
      const size = Math.min(batchSize, total - index * batchSize);
      const body = batchBody(run, index * batchSize, size, writeKey);
      bytes += Buffer.byteLength(body);
      const { ms, answer } = await post(body);
      latencies.push(ms);
      accepted += answer.accepted || 0;
      duplicates += answer.duplicates || 0;
      rejected += (answer.rejected || []).length;
    }
  }

  const started = process.hrtime.bigint();
  try {
    await Promise.all(Array.from({ length: concurrency }, client));
  } finally {
    agent.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (rejected || accepted !== total) {
    throw new Error(`ingest: sent ${total}, accepted ${accepted}, duplicates ${duplicates}, rejected ${rejected}`);
  }
  latencies.sort((a, b) => a - b);
  return {
    total,
    batchSize,
    concurrency,
    requests: latencies.length,
    seconds,
    eventsPerSecond: total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1],
    accepted,
    bodyBytesPerEvent: bytes / total,
  };
}
