import { z } from "zod";
import { help, stringList } from "./config-fields.js";
import { isAddressOrCidr } from "./forwarded.js";

/**
 * The `metrics` section of the gateway config (config.ts). `/metrics` says which models are
 * used, how much and how fast: it is served on a listener of its own, never on the public port,
 * so a load balancer that routes the public port to the internet cannot expose it. `allowFrom`
 * narrows who may scrape it further.
 */

export const MetricsSchema = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .default("127.0.0.1")
      .meta(
        help(
          "Interface of the metrics listener. 127.0.0.1: only this machine; in Kubernetes, 0.0.0.0 lets Prometheus scrape the pod (keep the port out of the Service the load balancer uses).",
          '"0.0.0.0"',
        ),
      ),
    port: z
      .number({ error: "expected a port number" })
      .int()
      .min(0)
      .max(65535)
      .default(9464)
      .meta(
        help(
          "Port of the metrics listener (0: any free port). Must differ from listen.port.",
          "9464",
        ),
      ),
    allowFrom: stringList("address or CIDR")
      .superRefine((list, ctx) => {
        list.forEach((entry, index) => {
          if (!isAddressOrCidr(entry)) {
            ctx.addIssue({
              code: "custom",
              path: [index],
              message: `"${entry}" is not an IP address or CIDR (e.g. "10.0.0.0/8", "127.0.0.1")`,
            });
          }
        });
      })
      .optional()
      .meta(
        help(
          "Only these addresses or CIDRs may scrape (others get 403). Default: anyone who reaches the listener.",
          '["10.0.0.0/8"]',
        ),
      ),
  })
  .meta(
    help(
      "Serve Prometheus metrics at /metrics on a listener of its own. Without it, there is no /metrics.",
      '{ "host": "0.0.0.0", "port": 9464, "allowFrom": ["10.0.0.0/8"] }',
    ),
  );

export type MetricsConfig = z.output<typeof MetricsSchema>;
