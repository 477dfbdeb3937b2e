// One opencode start as the plugins see it: import both plugin entries (as opencode does, from
// their package roots), run each plugin function, then each config hook on the config in
// $START_CONFIG. Prints what the hooks left in the provider's options (a token is never among
// them: the fetch sets it per request).
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
const { readFileSync } = await import("node:fs");
const cached = `${process.env.OPENCODE_OAUTH2_CACHE_DIR}/tokens/corp.json`;
const token = JSON.parse(readFileSync(cached, "utf8")).accessToken;
console.log(
  JSON.stringify({
    tokenInConfig: JSON.stringify(config).includes(token),
    fetchInstalled: typeof corp.options.fetch === "function",
    contextLimit: corp.models["demo-model"]?.limit?.context ?? null,
  }),
);
