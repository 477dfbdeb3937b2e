import type { PluginInput } from "@opencode-ai/plugin";
import type { LogRecord, LogSink } from "@vymalo/oauth2-core";

export const SERVICE = "opencode-models-info";

/**
 * Hands records to opencode's own logger (`client.app.log`): they land in opencode's log file
 * and in `--print-logs`. Fire-and-forget, so logging never delays the config hook; never stdout,
 * which would corrupt opencode's output.
 */
export function opencodeSink(client: PluginInput["client"], service = SERVICE): LogSink {
  return (record: LogRecord) => {
    const { level, event, ...extra } = record;
    try {
      const pending = client.app.log({ body: { service, level, message: event, extra } });
      Promise.resolve(pending).catch(() => {});
    } catch {
      // opencode's logger is unavailable (shutting down): drop the record.
    }
  };
}
