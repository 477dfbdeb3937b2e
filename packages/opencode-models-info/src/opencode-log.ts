import type { PluginInput } from "@opencode-ai/plugin";
import { type AppLogClient, appLogSink, type LogSink } from "@vymalo/oauth2-core";

export const SERVICE = "opencode-models-info";

/** Log records to opencode's own logger (`client.app.log`), under this plugin's service name. */
export function opencodeSink(client: PluginInput["client"], service = SERVICE): LogSink {
  return appLogSink(client as unknown as AppLogClient, service);
}
