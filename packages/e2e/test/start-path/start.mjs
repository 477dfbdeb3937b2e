// One opencode start as the plugins see it: import both plugin entries (as opencode does, from
// their package roots), run each plugin function, then each config hook on the config in
// $START_CONFIG. Prints what the hooks left in the provider's options.
const config = JSON.parse(process.env.START_CONFIG);
const input = { client: { app: { log: async () => true } } };
const plugins = [
  (await import("@vymalo/opencode-oauth2")).OAuth2Plugin,
  (await import("@vymalo/opencode-models-info")).ModelsInfoPlugin,
];
const hooks = [];
for (const plugin of plugins) hooks.push(await plugin(input, {}));
for (const h of hooks) await h.config?.(config);
const corp = config.provider.corp;
console.log(
  JSON.stringify({
    authorization: corp.options.headers?.Authorization ?? null,
    fetchInstalled: typeof corp.options.fetch === "function",
    contextLimit: corp.models["demo-model"]?.limit?.context ?? null,
  }),
);
