// What the benchmarks share: a bound on the whole run, their log line, and Chromium
// launched as the tests launch it, resolving no host but loopback.
import { launchBrowser } from "../tests/e2e/harness.mjs";

/** Ends the process if the run is still going after `minutes`: every bench stops by itself. */
export function giveUpAfter(minutes) {
  const guard = setTimeout(() => {
    console.error(`bench: still running after ${minutes} minutes; giving up`);
    process.exit(2);
  }, minutes * 60_000);
  guard.unref();
}

/** A progress line on stderr, so stdout holds only the figures. */
export const log = (...args) => console.error("bench:", ...args);

/** Headless Chromium that can reach nothing but 127.0.0.1, so nothing leaves the machine. */
export const launchLoopbackBrowser = () => launchBrowser(["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]);
