export * from "./browser.js";
export { CookieJar } from "./cookie-jar.js";
export * from "./fake-llm.js";
export { type HtmlForm, parseForms } from "./html-forms.js";
export * from "./idp.js";
export * from "./models-server.js";
export * from "./opencode.js";
