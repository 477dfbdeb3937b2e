import type * as client from "openid-client";
import type { InteractiveFlow, ProviderConfig } from "./config/schema.js";
import { type BrowserLogin, startBrowserLogin } from "./flows/authorization-code.js";
import { type DeviceLogin, startDeviceLogin } from "./flows/device-code.js";

/** A login that has started and waits for the user. */
export type PendingLogin =
  | ({ kind: "browser"; providerId: string } & BrowserLogin)
  | ({ kind: "device"; providerId: string } & DeviceLogin);

export interface StartLoginOptions {
  flow: InteractiveFlow;
  now: () => number;
  signal?: AbortSignal | undefined;
  /** A request reached the loopback callback with another state and was ignored. */
  onCallbackIgnored?: ((info: { stateSent: boolean }) => void) | undefined;
}

/** Starts an interactive login with the provider's login client (public + PKCE, typically). */
export async function startInteractiveLogin(
  provider: ProviderConfig,
  config: client.Configuration,
  options: StartLoginOptions,
): Promise<PendingLogin> {
  if (options.flow === "device_code") {
    const device = await startDeviceLogin(provider, config, {
      now: options.now,
      signal: options.signal,
    });
    return { kind: "device", providerId: provider.id, ...device };
  }
  const browser = await startBrowserLogin(provider, config, {
    signal: options.signal,
    onCallbackIgnored: options.onCallbackIgnored,
  });
  return { kind: "browser", providerId: provider.id, ...browser };
}
