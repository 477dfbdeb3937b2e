import { CookieJar } from "./cookie-jar.js";
import { findLink, type HtmlForm, parseForms } from "./html-forms.js";

export { readOpenedUrls, writeBrowserScript } from "./browser-script.js";

export interface AuthorizeOptions {
  /** Account to sign in as (default "test-user"); any login/password is accepted. */
  login?: string;
  /** Cancel at the first interaction page; the OP redirects with `error=access_denied`. */
  deny?: boolean;
  /** Also GET the callback URL (e.g. to hit a loopback listener) and return its response. */
  followCallback?: boolean;
}

export interface AuthorizeResult {
  /** Where the OP finally redirected (the client's redirect_uri with code or error). */
  callbackUrl: string;
  callbackResponse?: Response;
}

export interface ApproveDeviceOptions {
  login?: string;
  /** Abort on the confirmation page instead of confirming. */
  deny?: boolean;
}

export interface ApproveDeviceResult {
  outcome: "approved" | "denied";
  /** The last page the OP rendered (success page, or the input page after an abort). */
  html: string;
}

type Step =
  | { kind: "request"; url: URL; form?: Record<string, string> }
  | { kind: "done"; result: "callback"; url: URL }
  | { kind: "done"; result: "approved" | "denied"; html: string };

interface DeviceState {
  userCode: string;
  entered: boolean;
  confirmed: boolean;
}

interface FlowState {
  login: string;
  deny: boolean;
  device: DeviceState | undefined;
}

const MAX_STEPS = 25;

const isRedirect = (status: number): boolean => status >= 300 && status < 400;

function describe(response: Response, url: URL, body: string): string {
  return `${response.status} from ${url.href}: ${body.slice(0, 400)}`;
}

/**
 * A cookie-aware HTTP "browser" that drives oidc-provider's dev interaction pages (login,
 * consent, device code input/confirmation) with `fetch` and `redirect: "manual"`.
 */
export class TestBrowser {
  readonly cookies = new CookieJar();

  /** `fetchImpl`: another fetch, e.g. one that trusts an https test IdP's private CA. */
  constructor(
    private readonly fetchImpl: (url: string, init: RequestInit) => Promise<Response> = (
      url,
      init,
    ) => fetch(url, init),
  ) {}

  /** One request with the jar's cookies; POSTs `form` url-encoded. Never follows redirects. */
  async request(url: string | URL, form?: Record<string, string>): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = {
      accept: "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    };
    const cookie = this.cookies.header(target);
    if (cookie) headers.cookie = cookie;
    const response = await this.fetchImpl(target.href, {
      method: form ? "POST" : "GET",
      headers,
      redirect: "manual",
      ...(form ? { body: new URLSearchParams(form) } : {}),
    });
    this.cookies.store(target, response.headers.getSetCookie());
    return response;
  }

  /**
   * Runs an authorization request through login and consent until the OP redirects off its
   * own origin (to the client's redirect_uri), and returns that URL.
   */
  async authorize(authorizationUrl: string, opts: AuthorizeOptions = {}): Promise<AuthorizeResult> {
    const start = new URL(authorizationUrl);
    const state: FlowState = {
      login: opts.login ?? "test-user",
      deny: opts.deny ?? false,
      device: undefined,
    };
    const end = await this.#drive(start, start.origin, state);
    if (end.result !== "callback") throw new Error(`authorization ended on a ${end.result} page`);
    const callbackUrl = end.url.href;
    if (!opts.followCallback) return { callbackUrl };
    return { callbackUrl, callbackResponse: await this.request(callbackUrl) };
  }

  /**
   * Approves (or, with `deny`, aborts) a device authorization: enters the user code on the
   * verification page, confirms it, then signs in and consents.
   */
  async approveDevice(
    verificationUri: string,
    userCode: string,
    opts: ApproveDeviceOptions = {},
  ): Promise<ApproveDeviceResult> {
    const start = new URL(verificationUri);
    const state: FlowState = {
      login: opts.login ?? "test-user",
      deny: opts.deny ?? false,
      device: { userCode, entered: false, confirmed: false },
    };
    const end = await this.#drive(start, start.origin, state);
    if (end.result === "callback") {
      throw new Error(`device flow unexpectedly redirected to ${end.url.href}`);
    }
    return { outcome: end.result, html: end.html };
  }

  async #drive(
    firstUrl: URL,
    origin: string,
    state: FlowState,
  ): Promise<Exclude<Step, { kind: "request" }>> {
    let url = firstUrl;
    let form: Record<string, string> | undefined;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      const response = await this.request(url, form);
      const next = await this.#next(response, url, origin, state);
      if (next.kind === "done") return next;
      url = next.url;
      form = next.form;
    }
    throw new Error(`gave up after ${MAX_STEPS} requests (last: ${url.href})`);
  }

  /** Decides what a real user would do with this response. */
  async #next(response: Response, url: URL, origin: string, state: FlowState): Promise<Step> {
    if (isRedirect(response.status)) {
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (!location) throw new Error(`redirect without Location from ${url.href}`);
      const target = new URL(location, url);
      if (target.origin !== origin) return { kind: "done", result: "callback", url: target };
      return { kind: "request", url: target };
    }
    const body = await response.text();
    const isHtml = (response.headers.get("content-type") ?? "").includes("text/html");
    if (!isHtml) throw new Error(`unexpected ${describe(response, url, body)}`);
    const forms = parseForms(body);
    const byPrompt = (prompt: string): HtmlForm | undefined =>
      forms.find((candidate) => candidate.fields.prompt === prompt);
    const login = byPrompt("login");
    const consent = byPrompt("consent");
    if (login || consent) {
      if (state.deny) return { kind: "request", url: abortUrl(body, url) };
      const submit = login ?? consent;
      const fields: Record<string, string> = login
        ? { prompt: "login", login: state.login, password: "any" }
        : { prompt: "consent" };
      return { kind: "request", url: new URL(submit?.action ?? "", url), form: fields };
    }
    if (state.device) return this.#deviceStep(response, url, body, forms, state.device, state.deny);
    throw new Error(`unexpected page ${describe(response, url, body)}`);
  }

  #deviceStep(
    response: Response,
    url: URL,
    body: string,
    forms: HtmlForm[],
    device: DeviceState,
    deny: boolean,
  ): Step {
    if (/<title>\s*Sign-in Success\s*<\/title>/i.test(body)) {
      return { kind: "done", result: "approved", html: body };
    }
    const confirm = forms.find((candidate) => candidate.id === "op.deviceConfirmForm");
    if (confirm) {
      const fields = { ...confirm.fields };
      if (deny) {
        delete fields.confirm;
        fields.abort = "yes";
      }
      device.confirmed = true;
      return { kind: "request", url: new URL(confirm.action, url), form: fields };
    }
    // The input page (or the auto-submitting form_post page of verification_uri_complete).
    const input = forms.find((candidate) => "xsrf" in candidate.fields);
    if (input && !device.entered) {
      device.entered = true;
      return {
        kind: "request",
        url: new URL(input.action, url),
        form: { ...input.fields, user_code: device.userCode || (input.fields.user_code ?? "") },
      };
    }
    if (input && deny && device.confirmed && /interrupted/i.test(body)) {
      return { kind: "done", result: "denied", html: body };
    }
    const message = /<p class="red">([^<]*)<\/p>/.exec(body)?.[1];
    throw new Error(`device verification failed: ${message ?? describe(response, url, body)}`);
  }
}

/** The dev interaction page's "[ Cancel ]" link (`/interaction/:uid/abort`). */
function abortUrl(body: string, url: URL): URL {
  const link = findLink(body, "/abort");
  return new URL(link ?? `${url.pathname.replace(/\/$/, "")}/abort`, url);
}
