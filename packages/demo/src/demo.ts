import { fileURLToPath } from "node:url";
import { createGateway, type Gateway, silentLogger } from "@vymalo/opencode-gateway";
import {
  createOpencodeHome,
  getFreePort,
  jsonlText,
  type OpencodeHome,
  opencodeBinPath,
  publicNativeClient,
  runOpencode,
  startIdp,
  TestBrowser,
  type TestIdp,
} from "@vymalo/testkit";
import { loginThroughWellKnown } from "./login.js";
import { createNarrator } from "./steps.js";

const dist = (pkg: string, file: string) => new URL(`../../${pkg}/dist/${file}`, import.meta.url);

const PROVIDER = "demo";
const MODEL = "demo-coder";
const CLIENT_ID = "opencode-cli";

/**
 * The whole system on loopback: an embedded OpenID Provider with a demo user, the gateway in
 * front of its built-in demo model, and the real opencode driven step by step through
 * `.well-known/opencode`. Everything it starts, it stops; exit code 0 when every step worked.
 */
export async function runDemo(): Promise<number> {
  const say = createNarrator();
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    say.step("Starting an embedded OpenID Provider (oidc-provider) with a demo user");
    const port = await getFreePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const idp: TestIdp = await startIdp({
      clients: [publicNativeClient(CLIENT_ID)],
      audience: publicUrl,
    });
    cleanups.push(() => idp.close());
    say.show(`issuer: ${idp.issuer}\npublic CLI client: ${CLIENT_ID} (PKCE, no secret)`);

    say.step("Starting the gateway in front of the built-in demo model");
    const gateway: Gateway = createGateway(
      {
        publicUrl,
        issuer: idp.issuer,
        audiences: [publicUrl],
        providerId: PROVIDER,
        providerName: "Demo LLM (via the gateway)",
        upstream: { demo: true },
        oauth2: {
          clientId: CLIENT_ID,
          scopes: ["openid", "offline_access"],
          authFlow: "device_code",
        },
        models: [
          {
            id: MODEL,
            name: "Demo Coder",
            context_length: 131072,
            max_completion_tokens: 8192,
            pricing: { prompt: "0.000002", completion: "0.000006" },
            supported_parameters: ["tools", "temperature"],
          },
        ],
        manifest: {
          command: [process.execPath, fileURLToPath(dist("opencode-oauth2", "cli/main.js"))],
          plugins: [
            dist("opencode-oauth2", "index.js").href,
            dist("opencode-models-info", "index.js").href,
          ],
        },
        listen: { host: "127.0.0.1", port },
      },
      { logger: silentLogger },
    );
    await gateway.start(port, "127.0.0.1");
    cleanups.push(() => gateway.close());
    say.show(
      `${publicUrl}/.well-known/opencode  (the manifest)\n${publicUrl}/v1/models-info        (model metadata, bearer)\n${publicUrl}/v1/*                   (the model, bearer)`,
    );

    say.step("An isolated opencode home (nothing touches your own config)");
    const home: OpencodeHome = await createOpencodeHome({ config: {} });
    cleanups.push(() => home.cleanup());
    say.show(`opencode: ${opencodeBinPath()}\nHOME: ${home.home}`);

    say.step(`opencode auth login ${publicUrl}`);
    const browser = new TestBrowser();
    const login = await loginThroughWellKnown(home, publicUrl, async (uri, code) => {
      say.show(`device code ${code} at ${uri} — approving it as the demo user…`);
      await browser.approveDevice(uri, code, { login: "demo-user" });
    });
    say.show(login.summary);
    if (!login.ok) return 1;

    say.step(`opencode models ${PROVIDER} --verbose (metadata from models-info)`);
    const models = await runOpencode(home, ["models", PROVIDER, "--verbose"], {
      timeoutMs: 60_000,
    });
    if (models.code !== 0) {
      say.show(models.stderr);
      return 1;
    }
    const json = models.stdout.slice(
      models.stdout.indexOf("{"),
      models.stdout.lastIndexOf("}") + 1,
    );
    const model = JSON.parse(json) as { name?: string; limit?: unknown; cost?: unknown };
    say.show(
      `${PROVIDER}/${MODEL}: ${model.name}\nlimit: ${JSON.stringify(model.limit)}\ncost (USD per million tokens): ${JSON.stringify(model.cost)}`,
    );

    say.step(`opencode run -m ${PROVIDER}/${MODEL} "What is OAuth2?"`);
    const run = await runOpencode(
      home,
      ["run", "-m", `${PROVIDER}/${MODEL}`, "--format", "json", "What is OAuth2?"],
      {
        timeoutMs: 90_000,
      },
    );
    const answer = jsonlText(run.stdout);
    if (run.code !== 0 || !answer) {
      say.show(run.stderr || run.stdout);
      return 1;
    }
    say.show(answer);

    say.done(
      "Done: logged in through .well-known/opencode, metadata merged, answer streamed through the gateway.",
    );
    return 0;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}
