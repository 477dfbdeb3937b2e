import { withHelp } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { addressList } from "./config-fields.js";

/**
 * The `metrics` section of the gateway config (config.ts). `/metrics` says which models are
 * used, how much and how fast: it is served on a listener of its own, never on the public port,
 * so a load balancer that routes the public port to the internet cannot expose it. `allowFrom`
 * narrows who may scrape it further.
 */

export const MetricsSchema = withHelp(
  z.strictObject({
    host: withHelp(
      z._default(z.string().check(z.minLength(1)), "127.0.0.1"),
      "Interface of the metrics listener. 127.0.0.1: only this machine; in Kubernetes, 0.0.0.0 lets Prometheus scrape the pod (keep the port out of the Service the load balancer uses).",
      '"0.0.0.0"',
    ),
    port: withHelp(
      z._default(
        z.number({ error: "expected a port number" }).check(z.int(), z.gte(0), z.lte(65535)),
        9464,
      ),
      "Port of the metrics listener (0: any free port). Must differ from listen.port.",
      "9464",
    ),
    allowFrom: withHelp(
      z.optional(addressList("address or CIDR", '"10.0.0.0/8", "127.0.0.1"')),
      "Only these addresses or CIDRs may scrape (others get 403). Default: anyone who reaches the listener.",
      '["10.0.0.0/8"]',
    ),
  }),
  "Serve Prometheus metrics at /metrics on a listener of its own. Without it, there is no /metrics.",
  '{ "host": "0.0.0.0", "port": 9464, "allowFrom": ["10.0.0.0/8"] }',
);

export type MetricsConfig = z.output<typeof MetricsSchema>;
