// What the bench bundles (esbuild) for the analytics-next page: the npm package as a
// shop's bundler would include it, exposed as a global for the page's inline script.
import { AnalyticsBrowser } from "@segment/analytics-next";

window.AnalyticsBrowser = AnalyticsBrowser;
